"""The HTML reports: a feedback page per submission, the class report, lms_grades.csv.

A small class is made of results written as the grader writes them (``SubmissionResult``),
the reports are drawn, and their HTML is parsed: the numbers in the tables, the embedded
pictures, the links. Where Chromium is installed (``.ci/run`` installs Debian's), a page is
loaded headless and must log no console message and show something.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from PIL import Image

from autograder import results as model
from autograder.diagnose import Mistake, diagnosed
from autograder.grade import write_grades
from autograder.report import write_reports

FLIPPED = Mistake("kernel flipped", "the kernel is turned round", "look at w[0, 0]")
A01, A02 = "a01_output_size", "a02_convolution"


def a02_result(student: str, right: int, mistake: Mistake | None = None,
               fingerprint: str | None = None) -> model.SubmissionResult:
    """An a02 result whose conv2d_forward passes ``right`` of its 4 checks, the others
    failing with ``mistake`` (and a difference map)."""
    result = model.SubmissionResult(A02, seed=11, isolation="namespaces",
                                    fingerprint=fingerprint)
    for index in range(4):
        test = model.TestResult("conv2d_forward", f"layer {index}", "cases", 2.5)
        if index < right:
            test.outcome, test.message = "passed", "passed"
        else:
            message = f"conv2d_forward(layer {index}): values differ (seed 11)"
            test.outcome = "wrong"
            test.message = str(diagnosed(message, mistake)) if mistake else message
            test.diagnosis = mistake.key if mistake else None
            test.maps = model.difference_map(np.eye(3), np.zeros((3, 3)))
        result.tests[str(index)] = test
    result.finished = True
    return result


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Path:
    """A class graded by hand: a02 for four students (two alike, two with the same known
    mistake), a01 for one whose module did not import."""
    out = tmp_path_factory.mktemp("graded")
    results = {
        ("ann", A02): a02_result("ann", 4, fingerprint="f00d"),
        ("ben", A02): a02_result("ben", 1, FLIPPED, fingerprint="f00d"),
        ("cat", A02): a02_result("cat", 0, FLIPPED, fingerprint="beef"),
        ("dan", A02): a02_result("dan", 2),
    }
    rows = []
    for (student, assignment), result in results.items():
        written = result.to_gradescope()
        path = out / student / assignment / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(written))
        rows.append({"student_id": student, "assignment": assignment,
                     "score": written["score"], "max_score": written["max_score"],
                     "status": "graded"})
    broken = model.ungraded_results(10.0, "import error", "SyntaxError at line 3")
    (out / "eve" / A01).mkdir(parents=True)
    (out / "eve" / A01 / "results.json").write_text(json.dumps(broken))
    rows.append({"student_id": "eve", "assignment": A01, "score": 0.0, "max_score": 10.0,
                 "status": "import error"})
    write_grades(out, rows)
    write_reports(out)
    return out


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def table_after(page: BeautifulSoup, heading: str) -> list[list[str]]:
    """The cells of the first table after the heading that starts with ``heading``."""
    title = next(h for h in page.find_all(["h1", "h2"]) if h.get_text().startswith(heading))
    table = title.find_next("table")
    return [[cell.get_text(" ", strip=True) for cell in row.find_all(["td", "th"])]
            for row in table.find_all("tr")]


def assert_images_embedded(page: BeautifulSoup, at_least: int) -> None:
    images = page.find_all("img")
    assert len(images) >= at_least
    for image in images:
        header, _, data = image["src"].partition(",")
        assert header == "data:image/png;base64"
        picture = Image.open(io.BytesIO(base64.b64decode(data)))
        assert picture.format == "PNG" and min(picture.size) > 50


def test_the_class_report_holds_the_classes_numbers(graded_class):
    page = soup(graded_class / "report.html")
    assert page.h1.get_text() == "Class report: 5 students, 5 submissions"
    [header, row] = table_after(page, "a02_convolution")
    assert header == ["submissions", "mean", "median", "full marks", "zero"]
    assert row == ["4", "4.38", "3.75", "1", "1"]  # 10, 2.5, 0 and 5 points of 10
    function_table = page.find("th", string="students with full points").find_parent("table")
    assert [c.get_text() for c in function_table.find_all("td")] == ["conv2d_forward", "10",
                                                                     "25 %"]
    assert_images_embedded(page, at_least=2)


def test_the_class_report_counts_each_mistake_by_student(graded_class):
    rows = table_after(soup(graded_class / "report.html"), "Most frequent mistakes")
    assert rows[1][:2] == [A02, "conv2d_forward"]
    assert rows[1][2].startswith("kernel flipped") and rows[1][3] == "2"


def test_the_class_report_points_at_what_needs_a_look_and_what_is_alike(graded_class):
    page = soup(graded_class / "report.html")
    assert table_after(page, "Worth a look")[1] == ["eve", A01, "import error", "0"]
    alike = table_after(page, "Submissions alike")[1]
    assert alike[:2] == [A02, "ann , ben"] and alike[2] == "f00d"
    links = {a["href"] for a in page.find_all("a")}
    assert "ben/a02_convolution/feedback.html" in links
    assert all((graded_class / link).is_file() for link in links)


def test_a_feedback_page_names_the_mistake_and_draws_the_difference(graded_class):
    page = soup(graded_class / "ben" / A02 / "feedback.html")
    assert page.h1.get_text() == "a02_convolution: 2.5 / 10 points"
    assert page.h2.get_text() == "conv2d_forward: 2.5 / 10 points, 1 of 4 hidden checks passed"
    [mistake] = page.select("div.mistake")
    assert "the kernel is turned round" in mistake.get_text() and "3 of" in mistake.get_text()
    assert_images_embedded(page, at_least=1)
    assert "seed 11" in page.get_text()


def test_a_submission_that_did_not_import_gets_a_page_that_says_why(graded_class):
    page = soup(graded_class / "eve" / A01 / "feedback.html")
    assert "could not be imported" in page.get_text()
    assert "SyntaxError at line 3" in page.get_text()


def test_lms_grades_has_a_row_per_student_and_a_column_per_assignment(graded_class):
    with open(graded_class / "lms_grades.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student_id", A01, A02, "total", "max_total"]
    assert rows[1:] == [["ann", "", "10", "10", "20"], ["ben", "", "2.5", "2.5", "20"],
                        ["cat", "", "0", "0", "20"], ["dan", "", "5", "5", "20"],
                        ["eve", "0", "", "0", "20"]]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Flags for Chromium headless on a machine without a network or a display.
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--enable-logging=stderr", "--v=0", "--window-size=1000,1400"]


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (.ci/run installs Debian's "
                                              "chromium package)")
@pytest.mark.parametrize("page", ["report.html", "ben/a02_convolution/feedback.html"])
def test_a_page_loads_in_a_browser_without_console_messages_and_is_not_blank(graded_class,
                                                                            tmp_path, page):
    shot = tmp_path / "page.png"
    browser = subprocess.run(
        [CHROMIUM, *HEADLESS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", (graded_class / page).as_uri()],
        capture_output=True, text=True, timeout=120)
    assert shot.is_file(), browser.stderr[-2000:]
    console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 5  # text and pictures, not one colour
    assert (pixels < 128).mean() > 0.005  # some dark text drawn
