#!/usr/bin/env python3
"""Draws the qunjia app icons with the standard library only (zlib + struct).

A white house (家) holding three overlapping red circles (群, people together)
on a red field. Edges are 4x4 supersampled; flat colours keep the PNGs small.
Run from anywhere: python3 pwa/icons/make_icons.py
"""
import os
import struct
import zlib

RED = (200, 16, 46)  # #c8102e, the manifest's theme_color
WHITE = (255, 255, 255)
SS = 4  # samples per pixel per axis


def inside_house(x, y):
    """Emblem in unit coordinates, centre (0, 0); it reaches about 1.0 from the centre."""
    roof = -0.15 >= y >= -0.85 and abs(x) <= 0.9 * (y + 0.85) / 0.7
    body = abs(x) <= 0.62 and -0.2 <= y <= 0.78
    return roof or body


def inside_people(x, y):
    return any((x - cx) ** 2 + (y - 0.3) ** 2 <= 0.2 ** 2 for cx in (-0.27, 0.0, 0.27))


def colour_at(x, y):
    if inside_house(x, y) and not inside_people(x, y):
        return WHITE
    return RED


def render(size, emblem_scale):
    """emblem_scale: emblem unit length as a fraction of the icon size."""
    unit = size * emblem_scale
    half = size / 2
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            # Pixels well away from the emblem are plain red: skip sampling.
            ux, uy = (px + 0.5 - half) / unit, (py + 0.5 - half) / unit
            if abs(ux) > 1.05 or abs(uy) > 1.05:
                row += bytes(RED)
                continue
            acc = [0, 0, 0]
            for sy in range(SS):
                for sx in range(SS):
                    c = colour_at((px + (sx + 0.5) / SS - half) / unit,
                                  (py + (sy + 0.5) / SS - half) / unit)
                    for i in range(3):
                        acc[i] += c[i]
            row += bytes(round(a / SS / SS) for a in acc)
        rows.append(bytes(row))
    return rows


def write_png(path, size, rows):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + r for r in rows)  # filter type 0 per row
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = os.path.dirname(os.path.abspath(__file__))
    # The maskable emblem reaches ~0.34 of the size from the centre, inside the
    # 0.40 radius safe zone that every mask shape keeps.
    for name, size, scale in (("icon-192.png", 192, 0.40),
                              ("icon-512.png", 512, 0.40),
                              ("maskable-512.png", 512, 0.33)):
        path = os.path.join(out, name)
        write_png(path, size, render(size, scale))
        print(f"{name}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
