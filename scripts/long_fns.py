#!/usr/bin/env python3
"""List Rust functions longer than a threshold (default 60 lines) under src/.

A brace counter: finds `fn name` lines, then counts `{`/`}` (skipping strings,
chars and comments) from the opening brace to its match. Usage:
    scripts/long_fns.py [ROOT=src] [THRESHOLD=60]
Prints `lines path:line name` sorted by length, then counts over 60 and 100.
"""
import os, re, sys

FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?(extern\s+"[^"]*"\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)')

def strip(text):
    """Replace comments, strings and char literals by spaces, keeping newlines."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif c == 'r' and re.match(r'r#*"', text[i:i+10]) and (i == 0 or not (text[i-1].isalnum() or text[i-1] == '_')):
            m = re.match(r'r(#*)"', text[i:]); hashes = m.group(1)
            end = text.find('"' + hashes, i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r'[^\n]', ' ', text[i:end])); i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            out.append(re.sub(r'[^\n]', ' ', text[i:j+1])); i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(' ' * len(m.group(0))); i += len(m.group(0))
            else:
                out.append(c); i += 1  # lifetime
        else:
            out.append(c); i += 1
    return ''.join(out)

def functions(path):
    text = strip(open(path, encoding='utf-8').read())
    lines = text.split('\n')
    for idx, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        depth, started = 0, False
        for j in range(idx, len(lines)):
            for ch in lines[j]:
                if ch == ';' and not started and depth == 0:
                    break  # declaration without body
                if ch == '{':
                    depth += 1; started = True
                elif ch == '}':
                    depth -= 1
            else:
                if started and depth == 0:
                    yield m.group(7), idx + 1, j - idx + 1
                    break
                continue
            break

def main():
    root = sys.argv[1] if len(sys.argv) > 1 else 'src'
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    found = []
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith('.rs'):
                p = os.path.join(d, f)
                for name, line, length in functions(p):
                    found.append((length, f'{p}:{line}', name))
    found.sort(reverse=True)
    for length, where, name in found:
        if length > limit:
            print(f'{length:5} {where} {name}')
    print(f'over 60: {sum(1 for f in found if f[0] > 60)}  over 100: {sum(1 for f in found if f[0] > 100)}')

main()
