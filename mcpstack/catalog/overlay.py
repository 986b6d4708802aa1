"""Merges an environment overlay onto the base catalog, keeping track of where values came from.

Rules: mappings merge key by key; any other value (scalars, lists) replaces the base value;
`null` in an overlay removes the key.
"""

from __future__ import annotations

from typing import Any

from mcpstack.catalog.paths import KeyPath, SourceMap


def merge(base: Any, overlay: Any, source_map: SourceMap, overlay_map: SourceMap, path: KeyPath = ()) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        merged = dict(base)
        for key, value in overlay.items():
            child = (*path, key)
            if value is None:
                merged.pop(key, None)
                source_map.update_subtree(child, SourceMap())
            elif key in merged:
                merged[key] = merge(merged[key], value, source_map, overlay_map, child)
                if child in overlay_map.keys:
                    source_map.keys[child] = overlay_map.keys[child]
            else:
                merged[key] = value
                source_map.update_subtree(child, overlay_map)
        return merged
    source_map.update_subtree(path, overlay_map)
    return overlay
