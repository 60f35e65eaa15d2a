#!/usr/bin/env python3
"""Copies one tar stream from stdin to stdout and stops at its end-of-archive marker.

kwok (v0.7.0 and v0.8.0) never closes an exec'd command's stdin after the client's input
ends (pkg/utils/exec: io.Copy into cmd.StdinPipe() without Close), so `kubectl cp` into a
simulated pod would leave `tar -x` waiting for more forever. pod-enter.sh puts this filter in
front of such a tar: the archive's own end (two zero blocks) ends the input instead.
"""
import sys

source, sink = sys.stdin.buffer, sys.stdout.buffer


def read(n):
    data = b""
    while len(data) < n:
        chunk = source.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


zero_blocks = 0
while zero_blocks < 2:
    block = read(512)
    sink.write(block)
    if len(block) < 512:
        break
    if block == bytes(512):
        zero_blocks += 1
        continue
    zero_blocks = 0
    size = block[124:136]
    # Sizes are octal text, or base-256 binary (high bit set) for very large members.
    n = int.from_bytes(size[1:], "big") if size[0] & 0x80 else int(size.strip(b"\0 ") or b"0", 8)
    sink.write(read((n + 511) // 512 * 512))
sink.flush()
