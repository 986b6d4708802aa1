import pytest

from mcpstack.quantities import cpu_cores, memory_bytes


@pytest.mark.parametrize(
    ("quantity", "expected"), [("512Mi", 512 * 2**20), ("1Gi", 2**30), ("64M", 64 * 10**6), ("1000", 1000)]
)
def test_memory(quantity: str, expected: int) -> None:
    assert memory_bytes(quantity) == expected


@pytest.mark.parametrize(("quantity", "expected"), [("500m", 0.5), ("2", 2.0), ("0.25", 0.25)])
def test_cpu(quantity: str, expected: float) -> None:
    assert cpu_cores(quantity) == expected


def test_bad_memory_quantity() -> None:
    with pytest.raises(ValueError, match="not a memory quantity"):
        memory_bytes("lots")
