"""A decision shown as made survives ``kill -9`` at any moment.

A child process reviews a recording as fast as it can, printing ``decided <n>`` after
each decision call returns (the moment the GUI would show it as made). It is killed
with SIGKILL after a chosen number of lines, wherever it is then: inside a commit,
between two, in the middle of printing. Reopening the project must show every decision
it printed, and the file must be whole: at most the one decision being made at the kill
may also be there (committed, not yet shown), and never half of one.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")

N_PROPOSALS = 200
STATUS = {"accept": "accepted", "reject": "rejected", "correct": "corrected"}

CHILD = textwrap.dedent(
    """
    import json, sys
    from lessonreview.core.domain import Behaviour, Proposal, RecordingInfo
    from lessonreview.core.store.label_store import LabelStore
    from lessonreview.core.review.review_session import ReviewSession

    class Clock:
        frame_count = 100_000
        def frame_to_seconds(self, frame): return frame / 25
        def seconds_to_frame(self, t): return int(t * 25)

    path, n = sys.argv[1], int(sys.argv[2])
    plan = json.loads(sys.stdin.readline())
    store = LabelStore.open(path)
    rid = store.add_recording(RecordingInfo(path="lesson.mp4", sha256="c" * 64, width=640,
        height=480, fps=25.0, frame_count=100_000, duration_s=4000.0))
    session = ReviewSession(store, rid, timebase=Clock(), reviewer="Crash test")
    proposals = {
        f"q{i}": Proposal(person=f"P{i % 7 + 1}", behaviour=Behaviour.HAND_RAISED,
                          start_frame=i * 100, end_frame=i * 100 + 50, confidence=0.5,
                          evidence="wrist above shoulder")
        for i in range(n)
    }
    session.add_proposals(proposals.values())
    for step, (action, pid) in enumerate(plan, 1):
        if action == "accept":
            session.accept(proposals[pid].key)
        elif action == "reject":
            session.reject(proposals[pid].key)
        elif action == "correct":
            session.correct(proposals[pid].key, behaviour=Behaviour.STANDING)
        elif action == "undo":
            session.undo()
        else:
            session.redo()
        print(f"decided {step}", flush=True)
    """
)


def make_plan() -> list[tuple[str, str | None]]:
    plan: list[tuple[str, str | None]] = []
    for i in range(N_PROPOSALS):
        plan.append((("accept", "reject", "correct")[i % 3], f"q{i}"))
        if i % 4 == 3:
            plan += [("undo", None), ("redo", None)]
    return plan


def expected_labels(steps) -> dict[str, str]:
    """proposal id -> saved status, after ``steps``."""
    state: dict[str, str] = {}
    last: tuple[str, str] | None = None
    for action, pid in steps:
        if action == "undo":
            del state[last[0]]
        elif action == "redo":
            state[last[0]] = last[1]
        else:
            last = (pid, STATUS[action])
            state[pid] = STATUS[action]
    return state


def run_and_kill(path, plan, kill_after: int) -> int:
    """Start the child, SIGKILL it after ``kill_after`` printed decisions; how many it printed."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(N_PROPOSALS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child.stdin.write(json.dumps(plan) + "\n")
    child.stdin.close()
    printed = 0
    while printed < kill_after:
        line = child.stdout.readline()
        assert line, f"child ended early: {child.stderr.read()}"
        printed += line.startswith("decided ")
    os.kill(child.pid, signal.SIGKILL)
    rest = child.stdout.read()  # lines it printed before the kill landed
    printed += sum(line.startswith("decided ") for line in rest.splitlines())
    child.wait()
    child.stdout.close()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    return printed


def test_every_decision_shown_survives_kill_9(tmp_path):
    plan = make_plan()
    rng = random.Random(20240611)
    kill_points = [1, rng.randint(2, 40), rng.randint(41, 150)]
    for run, kill_after in enumerate(kill_points):
        path = tmp_path / f"run{run}.lessonreview"
        printed = run_and_kill(path, plan, kill_after)

        conn = sqlite3.connect(path)  # reopening recovers the WAL, as the app would
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        log = [r[0] for r in conn.execute("SELECT action FROM decisions ORDER BY id")]
        labels = dict(
            conn.execute("SELECT proposal_key, status FROM labels").fetchall()
        )  # keys look like P3:hand_raised:200:250
        conn.close()

        context = f"killed after {kill_after} lines, {printed} printed, {len(log)} saved"
        assert printed <= len(log) <= printed + 1, context
        assert log == [action for action, _ in plan[: len(log)]], context
        starts = {int(key.split(":")[2]) // 100: status for key, status in labels.items()}
        want = expected_labels(plan[: len(log)])
        assert {f"q{i}": s for i, s in starts.items()} == want, context
