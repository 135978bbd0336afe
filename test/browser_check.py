#!/usr/bin/env python3
"""Load an HTML file in headless Chromium and report what a reader's browser
would do with it, as JSON on stdout:

  dom             path of the serialized DOM (--dump-dom)
  screenshot      path of the PNG taken at the window size
  width, height   the PNG's size
  variance        variance of the pixels' luminance (0 for a blank page)
  nonwhite_share  share of pixels that are not (nearly) white
  console         console messages (CSP violations, script errors: any)
  page_requests   URLs the page itself asked for (not Chromium's own
                  background traffic, whose initiator is "not an origin")

Networking is disabled for the run: a black-hole proxy and a resolver that
finds no host. Used by test/t/097_report_browser.pl; needs only python3.

usage: browser_check.py CHROMIUM HTML_FILE OUT_DIR [WIDTH HEIGHT]
"""
import json
import os
import re
import struct
import subprocess
import sys
import zlib


def chromium(binary, out_dir, profile, extra, url):
    args = [binary, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--disable-extensions', '--proxy-server=http://127.0.0.1:9',
            '--host-resolver-rules=MAP * ~NOTFOUND', '--enable-logging=stderr', '--v=0',
            '--user-data-dir=' + os.path.join(out_dir, profile)] + extra + [url]
    return subprocess.run(args, capture_output=True, timeout=120, text=True, errors='replace')


def png_pixels(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA PNG."""
    data = open(path, 'rb').read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, width = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError('unsupported PNG (depth %d colour %d interlace %d)' % (depth, colour, interlace))
            bpp = 3 if colour == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def main():
    binary, html, out_dir = sys.argv[1:4]
    width, height = (int(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (1280, 2000)
    os.makedirs(out_dir, exist_ok=True)
    url = 'file://' + os.path.abspath(html)
    base = os.path.splitext(os.path.basename(html))[0]
    dom_path = os.path.join(out_dir, base + '.dom.html')
    png_path = os.path.join(out_dir, base + '.png')
    net_path = os.path.join(out_dir, base + '.netlog.json')

    dom = chromium(binary, out_dir, 'profile-dom', ['--dump-dom', '--log-net-log=' + net_path], url)
    open(dom_path, 'w').write(dom.stdout)
    shot = chromium(binary, out_dir, 'profile-shot',
                    ['--screenshot=' + png_path, '--window-size=%d,%d' % (width, height),
                     '--hide-scrollbars'], url)

    console = [line for line in (dom.stderr + shot.stderr).splitlines()
               if ':CONSOLE' in line or 'Uncaught' in line or 'Refused' in line]

    requests = []
    try:
        log = json.load(open(net_path))
        event_types = {v: k for k, v in log['constants']['logEventTypes'].items()}
        for e in log['events']:
            params = e.get('params') or {}
            if event_types.get(e['type']) == 'URL_REQUEST_START_JOB' and 'url' in params \
                    and params.get('initiator') != 'not an origin':
                requests.append(params['url'])
    except (OSError, ValueError, KeyError) as err:
        requests.append('netlog unreadable: %s' % err)

    result = {'dom': dom_path, 'screenshot': png_path, 'console': console, 'page_requests': requests,
              'dom_exit': dom.returncode, 'screenshot_exit': shot.returncode}
    try:
        w, h, rows, bpp = png_pixels(png_path)
        n = total = total2 = nonwhite = 0
        for row in rows[::2]:                       # every other row and pixel: plenty
            for i in range(0, len(row), bpp * 2):
                lum = (299 * row[i] + 587 * row[i + 1] + 114 * row[i + 2]) // 1000
                n += 1
                total += lum
                total2 += lum * lum
                if lum < 240:
                    nonwhite += 1
        mean = total / n
        result.update(width=w, height=h, variance=total2 / n - mean * mean, nonwhite_share=nonwhite / n)
    except (OSError, ValueError, zlib.error) as err:
        result.update(width=0, height=0, variance=0, nonwhite_share=0, png_error=str(err))
    print(json.dumps(result))


if __name__ == '__main__':
    main()
