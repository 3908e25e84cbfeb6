"""docs/api.md's code blocks run, in order, from the repository root, and print what the
page says they print."""

from __future__ import annotations

import re

from conftest import REPO


def test_the_api_page_runs(tmp_path, monkeypatch, capsys):
    text = (REPO / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(REPO)
    source = "\n".join(blocks).replace("runs/api-demo", str(tmp_path / "api-demo"))
    exec(compile(source, "docs/api.md", "exec"), {"__name__": "api_docs"})  # noqa: S102 - our own documentation
    printed = capsys.readouterr().out.splitlines()
    claimed = [m.group(1).strip() for block in blocks for m in re.finditer(r"print\(.*\)\s+#\s*(.*)$", block, flags=re.M)]
    shown = [p for p in printed if not re.match(r"^\d+ \d+ \(", p)]  # the debugger loop prints one line per step
    assert shown == claimed
