"""The agreement view: two coders' figures side by side, their disagreements (each one
jumps the video to it) and the consensus pass, over core.agreement."""
