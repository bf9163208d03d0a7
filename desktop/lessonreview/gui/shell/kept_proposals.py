"""The main window's kept proposals: a recording's undecided proposals kept with the
project, only when its consent record asks for it (Consent.keep_proposals).

Kept after an analysis; restored when the recording is opened again, instead of
analysing it again; deleted when every coder of the recording has decided every
proposal (each coder decides each proposal blind, so one coder finishing is not
enough), when the reviewer stops asking for it, and (by the store) with the
recording's data. A coder who starts only after that analyses the recording again:
the analysis gives the same proposals, with the same keys. Never exported: exports
read reviewed labels only. Packing and unpacking a long lesson's analysis takes seconds,
so both run off the GUI thread; only the store's read and write run on it. The proposals
reach the review as soon as the pack is checked, the people (their observations are most
of a long lesson's analysis) once they are built; until then the review session refuses
every people operation (a merge's check needs the people), saying why.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import QMessageBox, QWidget

from lessonreview.core.review.review_session import ReviewSession
from lessonreview.core.store import kept_pack
from lessonreview.core.store.label_store import LabelStore, StoreError
from lessonreview.core.store.proposals_schema import ProposalsFileError
from lessonreview.gui.background import Tasks
from lessonreview.gui.shell.workspace import Workspace

PEOPLE_LOADING = (
    "The people of this recording are still loading from the kept analysis: try again in a moment."
)


class Host(Protocol):
    store: LabelStore | None
    session: ReviewSession | None
    recording_id: int | None
    workspace: Workspace | None

    def show_status(self, text: str | None) -> None: ...


class KeptProposals:
    def __init__(self, host: Host, parent: QWidget) -> None:
        self._host = host
        self._parent = parent
        self.kept = False  # the open recording has a kept analysis in the project
        self._packing = Tasks(parent, name="kept-proposals-pack", daemon=False)
        self._unpacking = Tasks(parent, name="kept-proposals-unpack")

    def _wanted(self) -> bool:
        h = self._host
        consent = None if h.store is None else h.store.consent(h.recording_id)
        return consent is not None and consent.keep_proposals

    def restore(self, sha256: str) -> bool:
        """Start loading the open recording's kept analysis into the review; whether
        there is one. A damaged one, or one of other content, is dropped and said so."""
        h = self._host
        self.kept = False
        if h.store is None or h.session is None or h.workspace is None:
            return False
        blob = h.store.kept_analysis(h.recording_id)
        if blob is None:
            return False
        rid, session = h.recording_id, h.session
        end_wait = session.wait_for_people(PEOPLE_LOADING)

        def unpack(report):
            pack = kept_pack.open_pack(blob)
            if pack.recording.sha256 != sha256:
                raise ProposalsFileError("they belong to another version of the recording")
            report(pack)  # the proposals are reviewable while the people are built
            return pack.people()

        def proposals_ready(pack) -> None:
            if h.session is not session or h.workspace is None:
                return  # the recording was closed meanwhile
            h.note_models(pack.analysis)
            change = session.add_proposals(pack.proposals)
            self.kept = True
            h.show_status(
                f"{len(change.added)} undecided proposals kept from the last analysis "
                "(unreviewed). Analysis > Analyse recording runs the analysis again."
            )

        def people_ready(people) -> None:
            if h.session is not session or h.workspace is None:
                return
            h.workspace.set_people(people)
            end_wait()
            self.drop_if_done()

        def failed(exc: Exception) -> None:
            end_wait()
            if h.session is not session or h.store is None:
                return
            self.kept = False
            h.store.drop_kept_analysis(rid)
            h.show_status(f"The kept proposals were not used ({exc}): analyse the recording again.")

        h.show_status("Loading the proposals kept from the last analysis…")
        self._unpacking.start(unpack, update=proposals_ready, done=people_ready, failed=failed)
        return True

    def keep(self, doc) -> None:
        """After an analysis: keep it, if the consent record asks for that."""
        h = self._host
        if h.store is None or not self._wanted():
            return
        store, rid, session = h.store, h.recording_id, h.session

        def stored(blob: bytes) -> None:
            try:
                store.keep_analysis(rid, blob)
            except (StoreError, ValueError) as exc:
                self._not_kept(exc)
                return
            if h.session is session:
                self.kept = True
                self.drop_if_done()

        self._packing.start(lambda _r: kept_pack.pack(doc), done=stored, failed=self._not_kept)

    def finish(self) -> None:
        """Before the recording closes: a kept analysis being packed is still written."""
        self._unpacking.drop()
        self._packing.finish()

    def _not_kept(self, exc: Exception) -> None:
        QMessageBox.warning(
            self._parent,
            "Proposals not kept",
            f"The undecided proposals could not be kept with the project: {exc}\n\n"
            "They stay in the review while the recording is open.",
        )

    def drop_if_done(self) -> None:
        """Delete the kept analysis once no coder has anything left undecided, or once
        the consent record no longer asks to keep it."""
        h = self._host
        if not self.kept or h.store is None or h.session is None:
            return
        done = h.session.pending_count() == 0 and not h.session.coders_with_pending()
        if done or not self._wanted():
            try:
                h.store.drop_kept_analysis(h.recording_id)
            except StoreError:
                return  # tried again at the next change
            self.kept = False
