"""Privacy dialogs: the consent record, snapshots, keep-until dates, the read-only decision
log and the plain-language data sheet."""
