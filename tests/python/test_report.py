"""`moesim report OUT_DIR`: the page renders in Debian's headless Chromium (a non-blank
screenshot, every <img> loaded), has the sections the run's statistics call for, and bad
OUT_DIRs exit 2 with one message. MOESIM_BIN names the moesim binary."""

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import matplotlib.image

MOESIM = os.environ.get("MOESIM_BIN", "moesim")
SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def moesim(*args):
    return subprocess.run([MOESIM] + list(args), cwd=SOURCE, capture_output=True, text=True)


class Rendered(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="moesim_report_")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_and_report(self, name, config, *sets):
        out = os.path.join(self.tmp, name)
        r = moesim("run", config, "--quiet", "--out", out, *sets)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = moesim("report", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        page = os.path.join(out, "report.html")
        self.assertEqual(r.stdout, page + "\n")
        with open(page, encoding="utf-8") as f:
            text = f.read()
        return page, text

    def render(self, page, text):
        """Screenshot and DOM of `page` in headless Chromium."""
        profile = tempfile.mkdtemp(dir=self.tmp)
        base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--user-data-dir=" + profile, "--virtual-time-budget=5000"]
        shot = page + ".png"
        r = subprocess.run(base + ["--window-size=1100,2400", "--screenshot=" + shot,
                                   "file://" + page], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        pixels = matplotlib.image.imread(shot)
        self.assertGreater(pixels.shape[0] * pixels.shape[1], 1000)
        # Not blank: the page has text and plots, so the pixels vary.
        self.assertGreater(float(pixels[:, :, :3].std()), 0.05)
        r = subprocess.run(base + ["--dump-dom", "file://" + page], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        body = re.search(r"<body[^>]*>", r.stdout)
        self.assertIsNotNone(body, r.stdout[:500])
        images = len(re.findall(r"<img ", text))
        self.assertIn('data-images="%d"' % images, body.group(0))
        self.assertIn('data-images-ok="yes"', body.group(0))
        # Each embedded PNG also decodes here.
        for b64 in re.findall(r'src="data:image/png;base64,([^"]+)"', text):
            path = os.path.join(profile, "img.png")
            with open(path, "wb") as f:
                f.write(base64.b64decode(b64))
            self.assertGreater(matplotlib.image.imread(path).shape[0], 10)
        return images

    def test_one_chip(self):
        page, text = self.run_and_report("one", "configs/mixtral_decode.toml")
        for title in ("Summary", "Time by op class", "Unit utilisation", "Bytes per memory tier",
                      "Bytes between tiers", "Expert load"):
            self.assertIn("<h2>%s</h2>" % title, text)
        for title in ("Cache hit rates", "Link utilisation"):
            self.assertNotIn("<h2>%s</h2>" % title, text)
        # Every run has energy statistics (docs/energy.md).
        self.assertIn("<h2>Energy by unit</h2>", text)
        self.assertEqual(self.render(page, text), 6)  # the five above and energy

    def test_links_and_caches(self):
        page, text = self.run_and_report("ring", "configs/mixtral_decode_4chip_ring.toml")
        self.assertIn("<h2>Link utilisation</h2>", text)
        self.assertGreaterEqual(self.render(page, text), 6)
        page, text = self.run_and_report("cache", "configs/olmoe_decode_hbm_cache.toml")
        self.assertIn("<h2>Cache hit rates</h2>", text)
        self.render(page, text)

    def test_energy_when_present(self):
        # Energy statistics (another part of the issue) appear as keys with "energy" and a
        # unit of energy; the report shows whatever there is.
        out = os.path.join(self.tmp, "energy")
        r = moesim("run", "configs/mixtral_decode.toml", "--quiet", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        path = os.path.join(out, "stats.json")
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        # moesim's own energy statistics: one bar per unit and memory, the total as the run's.
        r = moesim("report", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            text = f.read()
        self.assertIn("<h2>Energy by unit</h2>", text)
        self.assertIn("%.6g J in total" % doc["summary"]["energy_j"], text)
        self.render(os.path.join(out, "report.html"), text)
        # Energy statistics named otherwise (keys with "energy" and a unit of energy).
        doc["stats"] = {k: v for k, v in doc["stats"].items() if "energy" not in k}
        doc["stats"]["chip0.compute.energy"] = {"value": 2.5, "unit": "J", "description": "x"}
        doc["stats"]["chip0.hbm.energy_pJ"] = {"value": 3e12, "unit": "", "description": "x"}
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        r = moesim("report", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            text = f.read()
        self.assertIn("<h2>Energy by unit</h2>", text)
        self.assertIn("5.5 J in total", text)
        self.render(os.path.join(out, "report.html"), text)


class BadInput(unittest.TestCase):
    def test_bad_out_dir_exits_two(self):
        tmp = tempfile.mkdtemp(prefix="moesim_report_bad_")
        try:
            missing = os.path.join(tmp, "missing")
            r = moesim("report", missing)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr, "moesim: error: report: %s: no such directory (expected "
                             "the output directory of 'moesim run')\n" % missing)
            r = moesim("report", tmp)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr, "moesim: error: report: %s: no stats.json (expected the "
                             "output directory of 'moesim run')\n" % tmp)
            with open(os.path.join(tmp, "stats.json"), "w", encoding="utf-8") as f:
                f.write("{not json")
            r = moesim("report", tmp)
            self.assertEqual(r.returncode, 2)
            self.assertTrue(r.stderr.startswith("moesim: error: report: %s: not a stats.json of "
                                                "moesim (" % os.path.join(tmp, "stats.json")),
                            r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "report.html")))
            r = moesim("report")
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr, "moesim: error: report: missing OUT_DIR (see 'moesim "
                             "report --help')\n")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
