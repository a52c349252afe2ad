#!/usr/bin/env python3
"""Compares two safetensors checkpoints tensor by tensor, byte for byte.

Prints one line per tensor name found in either file:
  same NAME | differs NAME | only-first NAME | only-second NAME
Standard library only (the test machines need no numpy)."""
import json
import struct
import sys


def entries(path):
    """Every tensor of the file: {name: (dtype, raw bytes)}."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    return {name: (e['dtype'], body[e['data_offsets'][0]:e['data_offsets'][1]])
            for name, e in header.items() if name != '__metadata__'}


def tensors(path):
    return {name: raw for name, (_, raw) in entries(path).items()}


def main():
    a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
    for name in sorted(set(a) | set(b)):
        if name not in b:
            print('only-first', name)
        elif name not in a:
            print('only-second', name)
        else:
            print('same' if a[name] == b[name] else 'differs', name)


if __name__ == '__main__':
    main()
