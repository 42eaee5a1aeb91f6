"""The pass explorer: one self-contained HTML page (``tvm-extend opt --html OUT.html``) with the
pipeline on the left, the IR after the selected pass with its diff against the IR before it,
and the pass timings. No network access and no external files: data, style and script are
inline.

Opening the page with ``#select=N`` selects pass N (1-based) by clicking it, which is how the
headless-browser test drives it.
"""

from __future__ import annotations

import difflib
import html
import json

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tvm-extend pass explorer: __TITLE__</title>
<style>
body { margin: 0; font: 14px system-ui, sans-serif; display: flex; height: 100vh; }
#passes { width: 30%; overflow: auto; border-right: 1px solid #ccc; background: #f7f7f9; }
#passes h1 { font-size: 15px; margin: 10px; }
.pass { padding: 6px 10px; cursor: pointer; border-bottom: 1px solid #e3e3e8; }
.pass.selected { background: #dbe8ff; }
.pass .time { float: right; color: #666; font-variant-numeric: tabular-nums; }
.pass.unchanged .name { color: #888; }
.bar { height: 3px; background: #7aa7ff; margin-top: 3px; }
#main { flex: 1; overflow: auto; padding: 0 14px; }
pre { background: #fbfbfd; border: 1px solid #e3e3e8; padding: 8px; overflow: auto; }
.add { background: #e6ffec; } .del { background: #ffebe9; }
</style></head>
<body>
<div id="passes"><h1>__TITLE__</h1><div id="list"></div></div>
<div id="main">
  <h2 id="heading"></h2>
  <h3>Diff against the IR before this pass</h3><pre id="diff"></pre>
  <h3>IR after this pass</h3><pre id="ir"></pre>
</div>
<script id="data" type="application/json">__DATA__</script>
<script>
const data = JSON.parse(document.getElementById("data").textContent);
const list = document.getElementById("list");
const total = data.passes.reduce((s, p) => s + p.ms, 0) || 1;
function show(i) {
  const p = data.passes[i];
  document.querySelectorAll(".pass").forEach((el, j) => el.classList.toggle("selected", j === i));
  document.getElementById("heading").textContent =
      p.name + " (" + p.ms.toFixed(3) + " ms" + (p.changed ? "" : ", no change") + ")";
  document.getElementById("ir").textContent = p.after;
  const diff = document.getElementById("diff");
  diff.textContent = "";
  for (const line of (p.diff || "(no change)").split("\\n")) {
    const span = document.createElement("div");
    span.textContent = line;
    if (line.startsWith("+") && !line.startsWith("+++")) span.className = "add";
    if (line.startsWith("-") && !line.startsWith("---")) span.className = "del";
    diff.appendChild(span);
  }
}
data.passes.forEach((p, i) => {
  const el = document.createElement("div");
  el.className = "pass" + (p.changed ? "" : " unchanged");
  el.dataset.index = i;
  el.innerHTML = '<span class="name"></span><span class="time"></span><div class="bar"></div>';
  el.querySelector(".name").textContent = (i + 1) + ". " + p.name;
  el.querySelector(".time").textContent = p.ms.toFixed(3) + " ms";
  el.querySelector(".bar").style.width = Math.max(1, 100 * p.ms / total) + "%";
  el.addEventListener("click", () => show(i));
  list.appendChild(el);
});
const m = location.hash.match(/select=(\\d+)/);
const first = m ? Number(m[1]) - 1 : 0;
if (data.passes.length) list.children[Math.min(first, data.passes.length - 1)].click();
</script></body></html>
"""


def write_html(path: str, title: str, run) -> None:
    passes = []
    for rec in run.passes:
        delta = "".join(
            difflib.unified_diff(
                rec.before.splitlines(True), rec.after.splitlines(True), "before", "after"
            )
        )
        passes.append(
            {
                "name": rec.name,
                "ms": rec.seconds * 1e3,
                "changed": rec.changed,
                "after": rec.after,
                "diff": delta,
            }
        )
    data = json.dumps({"input": run.input_ir, "passes": passes}).replace("</", "<\\/")
    page = PAGE.replace("__TITLE__", html.escape(title)).replace("__DATA__", data)
    with open(path, "w") as fh:
        fh.write(page)
