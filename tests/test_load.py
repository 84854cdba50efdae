"""Choosing the frontend for a file, and I/O problems as exit-2 errors."""

from __future__ import annotations

import pytest

from fwc.diagnostics import FwcError
from fwc.load import detect_kind, load_document, read_source


@pytest.mark.parametrize("name, text, kind", [
    ("policy.fw", "allow tcp 22\n", "policy"),
    ("user-data", "#cloud-config\nwrite_files: []\n", "provisioning"),
    ("user-data", "write_files:\n  - path: /x\n    content: |\n      *filter\n      COMMIT\n",
     "provisioning"),  # a cloud-config without its header is still one (FW501 reports it)
    ("config.bu", "variant: fcos\nversion: 1.5.0\n", "provisioning"),
    ("site.yaml", "users: []\n", "provisioning"),
    ("rules.v4", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "rules"),
    ("rules-save", "# write_files: in a comment\n*filter\nCOMMIT\n", "rules"),
    ("dump.yaml", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n", "rules"),
    ("anything", "", "rules"),
])
def test_detect_kind(name, text, kind):
    assert detect_kind(name, text) == kind


def test_missing_file(tmp_path):
    with pytest.raises(FwcError, match=r"nope\.rules: no such file$"):
        load_document(tmp_path / "nope.rules")


def test_directory(tmp_path):
    with pytest.raises(FwcError, match="is a directory, not a file"):
        load_document(tmp_path)


def test_undecodable_bytes_are_replaced_not_fatal(tmp_path):
    path = tmp_path / "rules.v4"
    path.write_bytes(b"# caf\xe9\n*filter\nCOMMIT\n")
    assert read_source(path).lines[0] == "# caf\ufffd"
