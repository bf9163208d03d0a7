"""The command line. ``lessonreview`` alone opens the desktop app.

The ``analyze``, ``export``, ``import`` and ``report`` commands import no Qt: they prove the core
runs headless.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lessonreview import __version__

if TYPE_CHECKING:
    from lessonreview.core.store.label_store import LabelStore

SUBCOMMANDS = ("review", "analyze", "export", "import", "report", "agreement", "models", "scheme")
# More samples per second than a classroom video has frames buys nothing and costs memory.
MAX_RATE_HZ = 30.0


def _number(what: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    """An argument parser for a finite number that ``ok`` accepts; otherwise the message
    "'TEXT' is not WHAT"."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


_rate = _number(
    "a sampling rate: give samples per second of video, "
    f"more than 0 and at most {MAX_RATE_HZ:g} (default 2)",
    lambda v: 0 < v <= MAX_RATE_HZ,
)
_bin = _number("a bin length: give seconds, from 5 to 3600", lambda v: 5 <= v <= 3600)
_fraction = _number("an IoU: give a number above 0, up to 1", lambda v: 0 < v <= 1)
_slice = _number("a slice length: give seconds, like 1.0", lambda v: v > 0)
_tolerance = _number(
    "a point-event tolerance: give seconds from 0 to 10, like 0.5", lambda v: 0 <= v <= 10
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: give YYYY-MM-DD") from None


def _consented(args: argparse.Namespace) -> bool:
    """Whether every recording to analyse has a consent record (recording the one given
    on the command line where there is none); says on stderr what to do if not."""
    from lessonreview.core.privacy.consent_gate import check_consent
    from lessonreview.core.store import settings as settings_io
    from lessonreview.core.store.label_store import StoreError
    from lessonreview.core.store.private_files import make_private_folder
    from lessonreview.core.store.store_rows import Consent

    project = args.project or settings_io.default_project_path()
    given = {
        "--consent-by": args.consent_by,
        "--purpose": args.purpose,
        "--retain-until": args.retain_until,
    }
    new = None
    if any(v is not None for v in given.values()):
        lacking = [k for k, v in given.items() if v is None or not str(v).strip()]
        if lacking:
            print(f"error: a consent record also needs {', '.join(lacking)}", file=sys.stderr)
            return False
        recorded_by = args.recorded_by or settings_io.load().reviewer
        if not recorded_by:
            print("error: say who records this consent: --recorded-by NAME", file=sys.stderr)
            return False
        new = Consent(
            consented_by=args.consent_by,
            purpose=args.purpose,
            retention_until=args.retain_until,
            recorded_by=recorded_by,
            recorded_at=datetime.now().astimezone(),
        )
    try:
        if new is not None and not args.project:
            # The default project's folder, on a first run: created as the app creates it
            # (owner-only). A folder the user named is theirs to create.
            make_private_folder(project.parent)
        check = check_consent(project, [Path(p) for p in args.paths], new=new)
    except (StoreError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return False
    if check.missing:
        names = ", ".join(p.name for p in check.missing)
        print(
            f"error: no consent is recorded for {names} in {project}; nothing was analysed. "
            f"Record it in the app (lessonreview review RECORDING --project {project}, then "
            "Analysis > Record consent...), or here: add --consent-by WHO --purpose WHAT "
            "--retain-until YYYY-MM-DD" + ("" if args.project else " (and --project FILE)"),
            file=sys.stderr,
        )
        return False
    return True


def _progress_bar(label: str):
    """A one-line progress bar on stderr (only redrawn when the percentage changes)."""
    state = {"last": -1, "start": time.monotonic()}

    def show(done: int, total: int, extra: str = "") -> None:
        pct = int(100 * done / total) if total else 100
        if pct == state["last"] and done != total:
            return
        state["last"] = pct
        width = 30
        filled = int(width * pct / 100)
        elapsed = time.monotonic() - state["start"]
        sys.stderr.write(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {pct:3d}% {elapsed:6.1f}s {extra}"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _cmd_analyze(args: argparse.Namespace) -> int:
    from lessonreview.core.analysis.pipeline import AnalysisRequest, analyze
    from lessonreview.core.media.video import RecordingError
    from lessonreview.core.store import proposals_file
    from lessonreview.core.store.atomic_file import TargetError, check_target
    from lessonreview.core.store.private_files import make_private_folder
    from lessonreview.core.vision.model_errors import ModelFileError, ModelMissingError
    from lessonreview.core.vision.model_files import ModelName

    if args.out and len(args.paths) > 1:
        print("error: --out takes one recording; use --out-dir for several", file=sys.stderr)
        return 2
    if args.out_dir:
        if args.out_dir.exists() and not args.out_dir.is_dir():
            print(
                f"error: --out-dir {args.out_dir} is a file, not a folder; "
                "give a folder (it is created if missing) or use --out for one file",
                file=sys.stderr,
            )
            return 2
        try:
            make_private_folder(args.out_dir)
        except OSError as exc:
            print(
                f"error: cannot create the folder {args.out_dir}: {exc.strerror}", file=sys.stderr
            )
            return 2
        names = [Path(p).stem for p in args.paths]
        clashes = {n for n in names if names.count(n) > 1}
        if clashes:
            print(
                f"error: several inputs are named {sorted(clashes)}; their outputs would overwrite each other",
                file=sys.stderr,
            )
            return 2
    # Every output is checked before hours of analysis, never after.
    outputs: dict[str, Path | None] = {}
    for path in args.paths:
        out = args.out_dir / f"{Path(path).stem}.json" if args.out_dir else args.out
        try:
            outputs[path] = None if out is None else check_target(out, reads=args.paths, text=True)
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if not _consented(args):
        return 2
    pose = ModelName.POSE_FULL if args.pose == "full" else ModelName.POSE_LITE
    failures = 0
    documents = []
    for path in args.paths:
        bar = _progress_bar(Path(path).name)
        request = AnalysisRequest(
            path=Path(path), rate_hz=args.rate, models_dir=args.models, pose_model=pose
        )
        try:
            doc = analyze(
                request, progress=lambda p, bar=bar: bar(p.done, p.total, f"{p.people} people")
            )
        except (RecordingError, ModelFileError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            if isinstance(exc, ModelMissingError):
                print(
                    f"To download them ({exc.download_size}): lessonreview models --download",
                    file=sys.stderr,
                )
                return 1  # every other recording would need the same files
            failures += 1
            continue
        if doc.analysis.stopped_at_s is not None:
            print(
                f"warning: {path} is damaged; analysed up to {doc.analysis.stopped_at_s:.2f} s "
                f"of {doc.recording.duration_s:.2f} s",
                file=sys.stderr,
            )
        if doc.analysis.undecodable_s:
            stretches = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in doc.analysis.undecodable_s)
            print(
                f"warning: {path} is damaged; these stretches could not be decoded and have no "
                f"proposals: {stretches}. Copy the file again from the original to analyse them.",
                file=sys.stderr,
            )
        print(
            f"{Path(path).name}: {len(doc.people)} people, {len(doc.proposals)} proposals "
            f"(unreviewed) in {doc.analysis.elapsed_s:.1f} s",
            file=sys.stderr,
        )
        out = outputs[path]
        if out is None:
            documents.append(proposals_file.to_json_dict(doc))
            continue
        try:
            proposals_file.write(doc, out)
        except (OSError, TargetError, proposals_file.ProposalsFileError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(
                f"error: the proposals of {path} could not be written to {out}: {why}",
                file=sys.stderr,
            )
            failures += 1
    if documents:
        json.dump(documents[0] if len(documents) == 1 else documents, sys.stdout)
        sys.stdout.write("\n")
    return 1 if failures else 0


def _cmd_models(args: argparse.Namespace) -> int:
    from lessonreview.core.vision.model_errors import ModelMissingError
    from lessonreview.core.vision.model_files import ModelName, resolve

    if args.models is not None and not args.models.is_dir():
        what = "does not exist" if not args.models.exists() else "is not a folder"
        print(
            f"error: --models {args.models} {what}; give the folder that holds the model "
            "files (or leave --models out to use the usual places)",
            file=sys.stderr,
        )
        return 2
    status = 0
    for name in ModelName:
        try:
            path = resolve(
                name,
                explicit_dir=args.models,
                allow_download=args.download,
                progress=_progress_bar(name.value) if args.download else None,
            )
            print(f"{name.value}: {path}")
        except ModelMissingError as exc:
            print(f"{name.value}: missing\n  {exc}")
            status = 1
    return status


def _cmd_export(args: argparse.Namespace) -> int:
    from lessonreview.core.store.label_store import StoreError

    if not args.out.name:
        print(f"error: --out {args.out} names a folder; give a file name", file=sys.stderr)
        return 2
    store = _open_project(args.project)
    if store is None:
        return 1
    try:
        return _export(store, args)
    except StoreError as exc:
        # A damaged row found while reading: each export is written whole once read, so
        # none is left half-written.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _recordings(store: LabelStore, args: argparse.Namespace) -> list:
    """The project's recordings that ``--recording`` names (its id or file name), or all."""
    rows = store.recordings()
    if args.recording is not None:
        rows = [
            r for r in rows if str(r.id) == args.recording or Path(r.path).name == args.recording
        ]
    if not rows:
        which = f" named {args.recording!r}" if args.recording is not None else ""
        names = ", ".join(Path(r.path).name for r in store.recordings()) or "none"
        print(
            f"error: {args.project} holds no recording{which}; nothing was done. "
            f"Give --recording as a file name or id; the recordings are: {names}",
            file=sys.stderr,
        )
    return rows


def _open_project(path: Path) -> LabelStore | None:
    """The project at ``path``, or None after saying why it cannot be opened."""
    from lessonreview.core.store.label_store import LabelStore, StoreError

    try:
        return LabelStore.open(path, create=False)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def _export(store: LabelStore, args: argparse.Namespace) -> int:
    from lessonreview.core.exchange.formats import export_recording
    from lessonreview.core.exchange.label_rows import ExchangeError
    from lessonreview.core.store import proposals_file
    from lessonreview.core.store.atomic_file import TargetError, check_target
    from lessonreview.core.store.export import export_decision_log
    from lessonreview.core.store.proposals_schema import ProposalsFileError

    if args.decision_log and args.format not in ("csv", "json"):
        print("error: the decision log is exported as csv or json only", file=sys.stderr)
        return 2
    rows = _recordings(store, args)
    if not rows:
        return 1
    if args.coder is not None and not args.decision_log:
        known = sorted({c for row in rows for c in store.coders(row.id)})
        if args.coder not in known:
            print(
                f"error: no labels by a coder named {args.coder!r}; nothing was exported. "
                f"The coders are: {', '.join(known) or 'none yet'}",
                file=sys.stderr,
            )
            return 1
    tracks = None
    if args.proposals is not None:
        if len(rows) > 1:
            print(
                "error: --proposals belongs to one recording: give --recording too",
                file=sys.stderr,
            )
            return 2
        try:
            doc = proposals_file.read(args.proposals)
        except ProposalsFileError as exc:
            print(f"error: {args.proposals}: {exc}", file=sys.stderr)
            return 1
        if doc.recording.sha256 != rows[0].sha256:
            print(
                f"error: {args.proposals.name} is the analysis of another recording "
                f"(not {Path(rows[0].path).name}); nothing was exported",
                file=sys.stderr,
            )
            return 1
        tracks = doc.people
    targets = []
    for row in rows:
        suffix = f"-{Path(row.path).stem}" if len(rows) > 1 else ""
        out = args.out.with_name(args.out.stem + suffix + args.out.suffix)
        try:
            targets.append((row, check_target(out, reads=[args.project, row.path], text=True)))
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for row, out in targets:
        try:
            if args.decision_log:
                export_decision_log(store, row.id, out, fmt=args.format)
                print(f"decision log of {row.path} -> {out}", file=sys.stderr)
                continue
            # The command line has no analysis in memory: nothing is pending here.
            summary = export_recording(
                store, row.id, out, fmt=args.format, coder=args.coder, tracks=tracks
            )
        except ExchangeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except (OSError, TargetError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"error: {out} could not be written: {why}", file=sys.stderr)
            return 1
        notes = "".join(f"\n  {note}" for note in summary.notes)
        print(f"{summary.n_labels} reviewed labels of {row.path} -> {out}{notes}", file=sys.stderr)
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from lessonreview.core.exchange.formats import read_coded
    from lessonreview.core.exchange.importing import import_coded
    from lessonreview.core.exchange.label_rows import ExchangeError
    from lessonreview.core.media.video import Recording, RecordingError
    from lessonreview.core.store.label_store import StoreError

    try:
        coded = read_coded(args.file)
    except ExchangeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    store = _open_project(args.project)
    if store is None:
        return 1
    try:
        rows = _recordings(store, args)
        if len(rows) != 1:
            return 1
        row = rows[0]
        try:
            # Times become frames through the recording's own timestamps: the video is read.
            timebase = Recording.open(row.path).timebase
        except RecordingError as exc:
            print(
                f"error: {exc}\nThe recording is needed to turn the file's times into its "
                "frames; nothing was imported.",
                file=sys.stderr,
            )
            return 1
        summary = import_coded(
            store, row.id, coded, coder=args.coder, timebase=timebase, only=args.only
        )
    except (ExchangeError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    already = f" ({summary.n_already} already there)" if summary.n_already else ""
    print(
        f"{summary.n_imported} labels of {summary.coder} imported from {args.file.name} "
        f"into {Path(row.path).name}{already}",
        file=sys.stderr,
    )
    return 0


def _coders(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if len(names) != 2 or not all(names):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not two coders: give two reviewer names with a comma, like 'Ann,Ben'"
        )
    return names


def _cmd_agreement(args: argparse.Namespace) -> int:
    from lessonreview.core.agreement.agreement import AgreementError, agreement_for, as_text
    from lessonreview.core.store.label_store import StoreError

    store = _open_project(args.project)
    if store is None:
        return 1
    try:
        found = _recordings(store, args)
        if not found:
            return 1
        row = found[0]
        report = agreement_for(
            store,
            row.id,
            args.coders,
            slice_s=args.slice,
            overlap=args.overlap,
            tolerance_s=args.tolerance,
        )
    except AgreementError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.json:
        document = {"recording": Path(row.path).name, **report.as_dict()}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(as_text(report, recording=Path(row.path).name), end="")
    return 0


def _report_coder(store, rid: int, asked: str | None) -> str | None | bool:
    """Whose labels a report counts: the one asked for; else the consensus coder's
    final labels if there are any; else the only coder's. False (said why) when several
    coders coded the recording and none was chosen: together they would count each
    label once per coder."""
    from lessonreview.core.domain import CONSENSUS_CODER

    coders = store.coders(rid)
    if asked is not None:
        if asked not in coders:
            print(
                f"error: no labels by a coder named {asked!r}. The coders are: "
                f"{', '.join(coders) or 'none yet'}",
                file=sys.stderr,
            )
            return False
        return asked
    if CONSENSUS_CODER in coders:
        return CONSENSUS_CODER
    if len(coders) > 1:
        print(
            f"error: {len(coders)} coders coded this recording ({', '.join(coders)}); choose "
            "whose labels the report counts with --coder NAME",
            file=sys.stderr,
        )
        return False
    return None


def _cmd_report(args: argparse.Namespace) -> int:
    from lessonreview.core.reflection.lesson_report import context_for, write_report
    from lessonreview.core.reflection.lesson_summary import (
        auto_bin,
        pending_in_file,
        places_in_file,
        summarise_recording,
    )
    from lessonreview.core.reflection.room_still import png_bytes, room_still
    from lessonreview.core.store import kept_pack, proposals_file
    from lessonreview.core.store.atomic_file import TargetError, check_target
    from lessonreview.core.store.label_store import LabelStore, StoreError

    if not args.out.name:
        print(f"error: --out {args.out} names a folder; give a file name", file=sys.stderr)
        return 2
    if not Path(args.project).is_file():
        print(f"error: there is no project file at {args.project}", file=sys.stderr)
        return 1
    try:
        store = LabelStore.open(args.project)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        rows = store.recordings()
        chosen = [
            r for r in rows if str(r.id) == args.recording or Path(r.path).name == args.recording
        ]
        if len(chosen) != 1:
            names = ", ".join(Path(r.path).name for r in rows) or "none"
            why = "several recordings are named" if chosen else "no recording named"
            print(
                f"error: {why} {args.recording!r} in {args.project} (its recordings: {names}); "
                "give the file name or the id",
                file=sys.stderr,
            )
            return 1
        row = chosen[0]
        reads = [args.project, row.path] + ([args.proposals] if args.proposals else [])
        try:
            out = check_target(args.out, reads=reads, text=True)
        except TargetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        coder = _report_coder(store, row.id, args.coder)
        if coder is False:
            return 1
        tracks, pending = (), None
        doc = None
        if args.proposals:
            try:
                doc = proposals_file.read(args.proposals)
            except proposals_file.ProposalsFileError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        elif (kept := store.kept_analysis(row.id)) is not None:
            # The analysis the project keeps (its consent record asked for it).
            try:
                doc = kept_pack.unpack(kept)
            except proposals_file.ProposalsFileError as exc:
                print(f"note: the kept analysis is not used ({exc})", file=sys.stderr)
        if doc is not None:
            if doc.recording.sha256 != row.sha256:
                print(
                    f"error: {args.proposals or 'the kept analysis'} is the analysis of another "
                    f"recording, not of {Path(row.path).name}",
                    file=sys.stderr,
                )
                return 1
            tracks = doc.people
            saved = store.saved_seconds(row.id)
            seconds = lambda f: doc.seconds.get(f, saved.get(f, f / row.fps))  # noqa: E731
            pending = pending_in_file(store, row.id, doc.proposals, seconds=seconds, coder=coder)
        summary = summarise_recording(
            store,
            row.id,
            coder=coder,
            bin_s=args.bin or auto_bin(row.duration_s),
            place_of=places_in_file(store, row.id, tracks) if tracks else None,
            pending=pending,
        )
        still = room_still(row.path, tracks=tracks, models_dir=args.models)
        if still is None:
            print(
                "note: no blurred still of the room could be made (the recording is missing, "
                "the person detector's model file is not found (--models), or nobody could be "
                "located in it to blur); the room map has no picture",
                file=sys.stderr,
            )
        context = context_for(
            row,
            still_png=None if still is None else png_bytes(still),
            still_size=None if still is None else (still.shape[1], still.shape[0]),
        )
        try:
            write_report(summary, context, out)
        except OSError as exc:
            print(f"error: {out} could not be written: {exc.strerror or exc}", file=sys.stderr)
            return 1
        placed = (
            ""
            if tracks
            else " (no --proposals and no kept analysis: raised hands are not placed on the room map)"
        )
        print(
            f"report of {Path(row.path).name}: {summary.reviewed_labels} reviewed labels -> "
            f"{out}{placed}",
            file=sys.stderr,
        )
    finally:
        store.close()
    return 0


def _cmd_scheme(args: argparse.Namespace) -> int:
    from lessonreview.core.domain import SchemeError
    from lessonreview.core.store.atomic_file import TargetError
    from lessonreview.core.store.label_store import StoreError
    from lessonreview.core.store.scheme_file import import_scheme_file, write_scheme_file

    store = _open_project(args.project)
    if store is None:
        return 1
    try:
        if args.action == "import":
            saved = import_scheme_file(store, args.file)
            print(
                f"coding scheme {saved.name} ({len(saved.behaviours)} behaviours) -> {args.project}",
                file=sys.stderr,
            )
            return 0
        schemes = store.coding_schemes()
        chosen = [
            s
            for s in (schemes.schemes if args.name else schemes.own)
            if args.name is None or s.name.lower() == args.name.lower()
        ]
        if len(chosen) != 1:
            names = ", ".join(s.name for s in schemes.schemes)
            why = (
                "has no scheme of that name"
                if args.name
                else ("has no scheme of its own" if not chosen else "has several schemes")
            )
            print(f"error: {args.project} {why}; give --name, one of: {names}", file=sys.stderr)
            return 2
        written = write_scheme_file(args.file, chosen[0])
        print(f"coding scheme {chosen[0].name} -> {written}", file=sys.stderr)
        return 0
    except (SchemeError, StoreError, TargetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _cmd_review(args: argparse.Namespace) -> int:
    from lessonreview.gui.shell.app import run_app

    return run_app(
        recording=args.path,
        proposals=args.proposals,
        project=args.project,
        models_dir=args.models,
        demo=args.demo,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lessonreview",
        description="Review consented classroom recordings. Machine proposals, human decisions.",
    )
    parser.add_argument("--version", action="version", version=f"lessonreview {__version__}")
    sub = parser.add_subparsers(dest="command")

    review = sub.add_parser("review", help="open the desktop app (the default)")
    review.add_argument("path", nargs="?", type=Path, help="a recording to open")
    review.add_argument(
        "--proposals", type=Path, help="a proposals file from 'lessonreview analyze'"
    )
    review.add_argument(
        "--project", type=Path, help="the project file (SQLite) holding reviewed labels"
    )
    review.add_argument("--models", type=Path, help="folder with the model files")
    review.add_argument("--demo", action="store_true", help="open the bundled demo recording")
    review.set_defaults(func=_cmd_review)

    analyze = sub.add_parser("analyze", help="propose behaviour labels for recordings (unreviewed)")
    analyze.add_argument("paths", nargs="+", help="recordings (video files or still images)")
    out = analyze.add_mutually_exclusive_group()
    out.add_argument("--out", type=Path, help="write the proposals file here")
    out.add_argument("--out-dir", type=Path, help="write NAME.json per recording into this folder")
    analyze.add_argument(
        "--rate", type=_rate, default=2.0, help="samples per second of video (default 2)"
    )
    analyze.add_argument("--models", type=Path, help="folder with the model files")
    analyze.add_argument(
        "--pose",
        choices=("lite", "full"),
        default="lite",
        help="pose model (default lite: as good here, faster)",
    )
    consent = analyze.add_argument_group(
        "consent",
        "A recording is analysed only with a consent record: the one in the project file "
        "(recorded in the app, Analysis > Record consent...), or one given here for the "
        "recordings that have none (all of --consent-by, --purpose, --retain-until).",
    )
    consent.add_argument(
        "--project",
        type=Path,
        help="the project file holding the consent records (default: the app's default project)",
    )
    consent.add_argument(
        "--consent-by", help="who consented (e.g. 'Parents of class 4B, forms on file')"
    )
    consent.add_argument("--purpose", help="what the recording may be used for")
    consent.add_argument("--retain-until", type=_day, help="keep the data until (YYYY-MM-DD)")
    consent.add_argument(
        "--recorded-by", help="who records this consent (default: the reviewer name on file)"
    )
    analyze.set_defaults(func=_cmd_analyze)

    export = sub.add_parser(
        "export",
        help="export reviewed labels of a project",
        description="Reviewed labels only (accepted and corrected). Formats: csv, json, "
        "eaf (ELAN), boris (BORIS tabular events), ava (AVA-style action detection CSV). "
        "See docs/exchange-formats.md.",
    )
    export.add_argument("project", type=Path, help="the project file")
    export.add_argument("--recording", help="recording id or file name (default: every recording)")
    export.add_argument("--format", choices=("csv", "json", "eaf", "boris", "ava"), default="csv")
    export.add_argument("--coder", help="only this coder's labels (default: every coder's)")
    export.add_argument(
        "--proposals",
        type=Path,
        help="ava: the recording's proposals file, for the people's boxes "
        "(default: the analysis the project keeps)",
    )
    export.add_argument(
        "--decision-log", action="store_true", help="export the audit trail instead"
    )
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(func=_cmd_export)

    imp = sub.add_parser(
        "import",
        help="import an ELAN (.eaf) or BORIS tabular events file as a coder's labels",
        description="The file's segments become labels of --coder on --recording, all or "
        "none: a file with a problem imports nothing and says what to correct.",
    )
    imp.add_argument("project", type=Path, help="the project file")
    imp.add_argument("file", type=Path, help="the .eaf or BORIS .csv/.tsv file")
    imp.add_argument("--recording", required=True, help="recording id or file name")
    imp.add_argument("--coder", required=True, help="whose labels these are")
    imp.add_argument(
        "--only",
        help="when the file holds several coders (ELAN annotators, BORIS observations): "
        "the one to import",
    )
    imp.set_defaults(func=_cmd_import)

    report = sub.add_parser(
        "report",
        help="write the one-page lesson report (HTML) of a recording's reviewed labels",
        description="A one-page HTML report of one recording, from its reviewed labels only: "
        "raised hands, standing and heads down over the lesson, where raised hands came from "
        "(unnamed dots over a blurred still), and how far the review has come. No ranking, no "
        "score, nobody named.",
    )
    report.add_argument("project", type=Path, help="the project file")
    report.add_argument("--recording", required=True, help="recording file name or id")
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    report.add_argument(
        "--proposals",
        type=Path,
        help="the recording's proposals file: places raised hands on the room map and "
        "counts what is still pending (default: the analysis the project keeps, if any)",
    )
    report.add_argument(
        "--bin",
        type=_bin,
        help="seconds per bin of the plots (default: a minute for a lesson, less for a clip)",
    )
    report.add_argument("--models", type=Path, help="folder with the model files (for the blur)")
    report.add_argument(
        "--coder",
        help="whose labels to count when several coders coded the recording (default: the "
        "consensus, else the only coder)",
    )
    report.set_defaults(func=_cmd_report)

    agreement = sub.add_parser(
        "agreement",
        help="how far two coders agree on a recording (Cohen's kappa, Krippendorff's alpha, "
        "segments)",
        description="Compare two coders' reviewed labels of one recording, per behaviour and "
        "overall: Cohen's kappa and Krippendorff's alpha (nominal) on time slices, and the "
        "share of segments that match at an IoU threshold, then list the disagreements.",
    )
    agreement.add_argument("project", type=Path, help="the project file")
    agreement.add_argument("--recording", required=True, help="recording file name or id")
    agreement.add_argument(
        "--coders", type=_coders, required=True, help="two reviewer names, like 'Ann,Ben'"
    )
    agreement.add_argument(
        "--slice", type=_slice, default=1.0, help="seconds per time slice (default 1.0)"
    )
    agreement.add_argument(
        "--overlap",
        type=_fraction,
        default=0.5,
        help="IoU at which two segments agree (default 0.5)",
    )
    agreement.add_argument(
        "--tolerance",
        type=_tolerance,
        default=0.5,
        help="seconds apart at which two point events (one-frame labels) still agree (default 0.5)",
    )
    agreement.add_argument("--json", action="store_true", help="print the figures as JSON")
    agreement.set_defaults(func=_cmd_agreement)
    scheme = sub.add_parser("scheme", help="export or import a coding scheme file (JSON)")
    scheme.add_argument("action", choices=("export", "import"))
    scheme.add_argument("project", type=Path, help="the project file")
    scheme.add_argument("file", type=Path, help="the coding-scheme file to write or read")
    scheme.add_argument("--name", help="which scheme to export (default: the project's own one)")
    scheme.set_defaults(func=_cmd_scheme)

    models = sub.add_parser("models", help="show where each model file comes from")
    models.add_argument("--models", type=Path, help="folder with the model files")
    models.add_argument(
        "--download", action="store_true", help="download missing models from the official sources"
    )
    models.set_defaults(func=_cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # A bare ``lessonreview`` (or ``lessonreview FILE``) opens the app.
    if not argv or (argv[0] not in SUBCOMMANDS and not argv[0].startswith("-")):
        argv = ["review", *argv]
    elif argv[0].startswith("--") and argv[0] not in ("--version", "--help"):
        argv = ["review", *argv]
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["review", *argv])
    return args.func(args)
