"""An ONNX model's input image size left free, in memory (the file is not touched).

A fully convolutional detector exported for a square input runs as well on any
height and width that its largest stride divides, but onnxruntime refuses any size
other than the one written in the file. Leaving the input's height and width (and the
number of predictions that follows from them) unnamed lets one session take each
window at its own shape.

The edit is made on the protobuf wire format directly, so that the product does not
need the ``onnx`` package for three fields: ``ModelProto.graph`` (7),
``GraphProto.input`` (11), ``output`` (12) and ``value_info`` (13), ``ValueInfoProto.type``
(2), ``TypeProto.tensor_type`` (1), ``Tensor.shape`` (2), ``TensorShapeProto.dim`` (1),
``Dimension.dim_value`` (1) and ``dim_param`` (2), as in onnx.proto.
"""

from __future__ import annotations

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5

_GRAPH = 7
_INPUT, _OUTPUT, _VALUE_INFO = 11, 12, 13
_TYPE = 2
_TENSOR = 1
_SHAPE = 2
_DIM = 1
_DIM_VALUE, _DIM_PARAM = 1, 2

Field = tuple[int, int, bytes]  # field number, wire type, payload (without its length)


def free_image_size(model: bytes) -> tuple[bytes, tuple[int, ...]]:
    """``model`` with its one input's last two dimensions (height, width) and its outputs'
    second dimension (the predictions) left free, and the intermediate shapes the
    exporter stored (valid for the old size only) dropped. Also returns the input's
    dimensions as the file gives them, for the caller to check that it is the model
    it expects. Raises ValueError when ``model`` is not an ONNX model with one image
    input of fixed size."""
    top = _fields(model)
    graphs = [f for f in top if f[0] == _GRAPH and f[1] == _BYTES]
    if len(graphs) != 1:
        raise ValueError("no graph")
    graph = _fields(graphs[0][2])
    inputs = [f for f in graph if f[0] == _INPUT]
    if len(inputs) != 1:
        raise ValueError("not one input")
    dims = _dims(inputs[0][2])
    if len(dims) != 4 or not all(isinstance(d, int) for d in dims):
        raise ValueError("the input is not an image of fixed size")
    edited = []
    for number, wire, payload in graph:
        if number == _VALUE_INFO:
            continue
        if number == _INPUT:
            payload = _with_free_dims(payload, {2: "height", 3: "width"})
        elif number == _OUTPUT:
            payload = _with_free_dims(payload, {1: "predictions"})
        edited.append((number, wire, payload))
    new_graph = _encode(edited)
    out = [(n, w, new_graph if n == _GRAPH else p) for n, w, p in top]
    return _encode(out), tuple(int(d) for d in dims)


def _dims(value_info: bytes) -> list[int | str]:
    shape = _shape(value_info)
    out: list[int | str] = []
    for number, _wire, dim in _fields(shape):
        if number != _DIM:
            continue
        parts = {n: p for n, _w, p in _fields(dim)}
        if _DIM_VALUE in parts:
            out.append(_varint(parts[_DIM_VALUE], 0)[0])
        else:
            out.append(parts.get(_DIM_PARAM, b"").decode())
    return out


def _shape(value_info: bytes) -> bytes:
    return _only(_only(_only(value_info, _TYPE), _TENSOR), _SHAPE)


def _only(message: bytes, number: int) -> bytes:
    found = [p for n, w, p in _fields(message) if n == number and w == _BYTES]
    if len(found) != 1:
        raise ValueError(f"field {number} missing or repeated")
    return found[0]


def _with_free_dims(value_info: bytes, names: dict[int, str]) -> bytes:
    """The value info with the dimensions at ``names``' indices made named (free) ones."""

    def dims(shape: bytes) -> bytes:
        out, k = [], 0
        for number, wire, payload in _fields(shape):
            if number == _DIM:
                if k in names:
                    payload = _encode([(_DIM_PARAM, _BYTES, names[k].encode())])
                k += 1
            out.append((number, wire, payload))
        return _encode(out)

    def within(message: bytes, path: tuple[int, ...]) -> bytes:
        if not path:
            return dims(message)
        return _encode(
            [
                (n, w, within(p, path[1:]) if n == path[0] and w == _BYTES else p)
                for n, w, p in _fields(message)
            ]
        )

    return within(value_info, (_TYPE, _TENSOR, _SHAPE))


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> list[Field]:
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            _, end = _varint(buf, i)
        elif wire == _BYTES:
            size, i = _varint(buf, i)
            end = i + size
        elif wire == _FIXED64:
            end = i + 8
        elif wire == _FIXED32:
            end = i + 4
        else:
            raise ValueError(f"unexpected wire type {wire}")
        if end > len(buf) or number == 0:
            raise ValueError("not a protobuf message")
        out.append((number, wire, bytes(buf[i:end])))
        i = end
    return out


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _encode(fields: list[Field]) -> bytes:
    parts = []
    for number, wire, payload in fields:
        parts.append(_encode_varint(number << 3 | wire))
        if wire == _BYTES:
            parts.append(_encode_varint(len(payload)))
        parts.append(payload)
    return b"".join(parts)
