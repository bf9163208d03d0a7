"""One reviewer reviewing one recording: which proposals are still pending, the decisions
on them as undoable commands, and the labels those decisions save. Never looks at pixels or
models: it takes proposals and a store."""
