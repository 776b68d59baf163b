"""The report page in a real browser: headless Chromium, with the network shut off.

``check`` loads a copy of the page with a probe script appended and returns what the probe
saw: each section's size and text, each figure's decoded image size, every resource the page
fetched (a self-contained page fetches none) and every in-page link without a target.
``screenshot`` saves the whole page as a PNG for a person to look at.

Run as ``python -m tests.report.browser PAGE [--screenshot PNG]`` (``make report-example``).
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Debian's package is ``chromium``; other systems name the binary otherwise.
BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Every request goes to a proxy that is not there, and no name resolves: anything the page
# tried to fetch would fail, and the probe lists it anyway.
_OFFLINE = (
    "--proxy-server=socks5://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)

_PROBE = """
<script>
window.addEventListener("load", () => {
  const seen = {sections: {}, figures: [], resources: [], broken_links: [],
                height: document.documentElement.scrollHeight};
  for (const s of document.querySelectorAll("section[data-section]")) {
    const box = s.getBoundingClientRect();
    seen.sections[s.dataset.section] = {height: box.height, text: s.innerText.trim().length,
      heading: (s.querySelector("h2") || {}).innerText || ""};
  }
  for (const img of document.images) {
    seen.figures.push({name: (img.closest("figure") || {dataset: {}}).dataset.figure || null,
      complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
      shown: img.getBoundingClientRect().width});
  }
  seen.resources = performance.getEntriesByType("resource").map(e => e.name);
  for (const a of document.querySelectorAll('a[href^="#"]')) {
    if (!document.getElementById(a.getAttribute("href").slice(1))) seen.broken_links.push(a.getAttribute("href"));
  }
  const out = document.createElement("pre");
  out.id = "browser-probe";
  out.textContent = JSON.stringify(seen);
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str | None:
    """The browser's path, or None when none is installed."""
    found = (shutil.which(name) for name in BINARIES)
    return next((path for path in found if path), None)


def _run(args: list[str], timeout: float) -> str:
    binary = chromium()
    if binary is None:
        raise FileNotFoundError("no Chromium: apt-get install chromium")
    flags = ["--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run", *_OFFLINE]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.append("--no-sandbox")  # Chromium refuses to sandbox as root
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [binary, *flags, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"chromium exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


def check(page: str | Path, width: int = 1280, timeout: float = 60.0) -> dict[str, Any]:
    """What the probe saw after the page loaded offline in a window ``width`` pixels wide."""
    text = Path(page).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        probed = Path(folder) / "probed.html"
        probed.write_text(text.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
        dom = _run(
            [f"--window-size={width},900", "--virtual-time-budget=10000", "--dump-dom", probed.as_uri()],
            timeout,
        )
    found = re.search(r'<pre id="browser-probe">(.*?)</pre>', dom, re.S)
    if found is None:
        raise RuntimeError("the probe did not run: the page never finished loading")
    return json.loads(html.unescape(found.group(1)))


def screenshot(page: str | Path, png: str | Path, width: int = 1280, timeout: float = 60.0) -> Path:
    """The whole page, ``width`` pixels wide, as a PNG."""
    height = int(check(page, width, timeout)["height"])
    out = Path(png).resolve()
    _run(
        [f"--window-size={width},{height}", f"--screenshot={out}", Path(page).resolve().as_uri()],
        timeout,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page")
    parser.add_argument("--screenshot", metavar="PNG")
    args = parser.parse_args(argv)
    seen = check(args.page)
    print(json.dumps(seen, indent=2))
    if args.screenshot:
        print(f"wrote {screenshot(args.page, args.screenshot)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
