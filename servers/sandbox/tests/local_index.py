"""A tiny PEP 503 package index with test packages, so package tests never leave this machine.

`SCRIPT` is self-contained (standard library only): the unit tests import it and serve the index
from a thread on 127.0.0.1; the Docker suites run it as a container of the stack
(`python -c SCRIPT PORT`) that the sandbox reaches by name.

Packages:
- mcpstack-demo 1.0.0 and 2.0.0: a pure-Python wheel (module mcpstack_demo, VERSION and greet());
- mcpstack-pth 1.0.0: a wheel whose .pth file would run code at interpreter start-up if processed;
- mcpstack-sdist-only 1.0.0: only a source distribution whose setup.py writes a marker file and
  connects to the index: pip with --only-binary must never run it;
- mcpstack-wrapper 1.0.0: a wheel that depends on colourama (a blocklisted name, served here as a
  harmless wheel): the dependency check must refuse it;
- mcpstack-bulky 1.0.0: a 3 MB wheel, for the download size limit;
- mcpstack-many-files 1.0.0: a small wheel of 3000 empty files, for the limit on files (inodes) an install
  may create.
"""

SCRIPT = r"""
import base64, hashlib, html, io, os, re, sys, tarfile, tempfile, zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

MARKER = "/tmp/mcpstack-sdist-setup-ran"
MANY_FILES = 3000


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel(directory, name, version, files, requires=()):
    dist = f"{name.replace('-', '_')}-{version}"
    info = f"{dist}.dist-info"
    contents = dict(files)
    contents[f"{info}/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (
        name, version, "".join(f"Requires-Dist: {r}\n" for r in requires))
    contents[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: mcpstack-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    record = []
    for path, text in contents.items():
        data = text.encode() if isinstance(text, str) else text
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    contents[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    filename = f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return filename


def sdist(directory, name, version, setup_py):
    base = f"{name}-{version}"
    filename = f"{base}.tar.gz"
    with tarfile.open(os.path.join(directory, filename), "w:gz") as archive:
        info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        for path, text in {"setup.py": setup_py, "PKG-INFO": info}.items():
            data = text.encode()
            member = tarfile.TarInfo(f"{base}/{path}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return filename


def build(root):
    files = os.path.join(root, "files")
    os.makedirs(files, exist_ok=True)
    made = {}
    for version in ("1.0.0", "2.0.0"):
        made.setdefault("mcpstack-demo", []).append(wheel(files, "mcpstack-demo", version, {
            "mcpstack_demo/__init__.py": f"VERSION = {version!r}\ndef greet():\n    return 'hello from a wheel'\n"}))
    made["mcpstack-pth"] = [wheel(files, "mcpstack-pth", "1.0.0", {
        "mcpstack_pth.py": "LOADED = True\n",
        "mcpstack_pth.pth": "import os; open(os.path.expanduser('~/pth-ran'), 'w').write('the .pth file ran')\n"})]
    made["mcpstack-sdist-only"] = [sdist(files, "mcpstack-sdist-only", "1.0.0",
        "import socket\nopen(%r, 'w').write('setup.py ran')\n"
        "try:\n    socket.create_connection(('127.0.0.1', 1), timeout=1)\nexcept OSError:\n    pass\n"
        "from setuptools import setup\nsetup(name='mcpstack-sdist-only', version='1.0.0')\n" % MARKER)]
    made["mcpstack-wrapper"] = [wheel(files, "mcpstack-wrapper", "1.0.0", {"mcpstack_wrapper.py": "X = 1\n"},
                                      requires=["colourama"])]
    made["colourama"] = [wheel(files, "colourama", "0.1.0", {"colourama.py": "HARMLESS_STAND_IN = True\n"})]
    made["mcpstack-bulky"] = [wheel(files, "mcpstack-bulky", "1.0.0", {
        "mcpstack_bulky/__init__.py": "", "mcpstack_bulky/blob.bin": os.urandom(3 * 1024 * 1024)})]
    made["mcpstack-many-files"] = [wheel(files, "mcpstack-many-files", "1.0.0", {
        **{f"mcpstack_many_files/f{i}": "" for i in range(MANY_FILES)}, "mcpstack_many_files/__init__.py": ""})]
    simple = os.path.join(root, "simple")
    links = []
    for project, names in made.items():
        folder = os.path.join(simple, normalise(project))
        os.makedirs(folder, exist_ok=True)
        anchors = []
        for filename in names:
            with open(os.path.join(files, filename), "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            anchors.append(f'<a href="../../files/{filename}#sha256={digest}">{html.escape(filename)}</a><br>')
        with open(os.path.join(folder, "index.html"), "w") as handle:
            handle.write("<!DOCTYPE html><html><body>%s</body></html>" % "".join(anchors))
        links.append(f'<a href="{normalise(project)}/">{project}</a><br>')
    with open(os.path.join(simple, "index.html"), "w") as handle:
        handle.write("<!DOCTYPE html><html><body>%s</body></html>" % "".join(links))
    return root


REQUESTS = []  # paths asked for, in order (the unit tests check what reached the index)


class QuietHandler(SimpleHTTPRequestHandler):
    def do_GET(self):
        REQUESTS.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


def serve(root, host, port):
    server = ThreadingHTTPServer((host, port), partial(QuietHandler, directory=root))
    return server


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    root = build(tempfile.mkdtemp(prefix="index-"))
    serve(root, "0.0.0.0", port).serve_forever()
"""

PACKAGES = {
    "demo": "mcpstack-demo",
    "pth": "mcpstack-pth",
    "sdist_only": "mcpstack-sdist-only",
    "wrapper": "mcpstack-wrapper",
    "bulky": "mcpstack-bulky",
    "many_files": "mcpstack-many-files",
}
SDIST_MARKER = "/tmp/mcpstack-sdist-setup-ran"
MANY_FILES = 3000


def namespace() -> dict:
    """SCRIPT's functions, loaded in process (build, serve)."""
    scope: dict = {"__name__": "local_index"}
    exec(compile(SCRIPT, "local_index_script", "exec"), scope)
    return scope
