#!/usr/bin/env python3
"""Lists Swift functions, initializers and closures-as-properties longer than a limit (default 80 lines).

  scripts/long-functions.py [--limit N] [PATH ...]     (default PATH: Sources)

A function counts from its `func`/`init` line to its closing brace. A function that is one numerical
kernel may stay long when its doc comment says why ("one kernel"); it is listed with "(kernel)".
"""
import os, re, sys

DECL = re.compile(r'^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|final|override|mutating|nonmutating|convenience|required|@inlinable|@usableFromInline|@discardableResult)\s+)*(func\s+[^\s(<]+|init[?!]?)\s*[(<]')

def functions(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    i = 0
    while i < len(lines):
        m = DECL.match(lines[i])
        if not m:
            i += 1; continue
        depth = 0; started = False; j = i
        while j < len(lines):
            code = re.sub(r'"(?:\\.|[^"\\])*"', '""', lines[j].split('//')[0])
            for ch in code:
                if ch == '{': depth += 1; started = True
                elif ch == '}': depth -= 1
            if started and depth <= 0: break
            if not started and j > i + 15: break
            j += 1
        if started:
            doc = '\n'.join(lines[max(0, i - 6):i])
            yield m.group(1), i + 1, j - i + 1, 'one kernel' in doc
        i += 1

def main():
    args = sys.argv[1:]; limit = 80
    if args[:1] == ['--limit']: limit = int(args[1]); args = args[2:]
    roots = args or ['Sources']
    found = []
    for root in roots:
        for r, _, files in os.walk(root):
            for f in files:
                if f.endswith('.swift'):
                    p = os.path.join(r, f)
                    for name, line, length, kernel in functions(p):
                        if length >= limit: found.append((length, p, line, name, kernel))
    for length, p, line, name, kernel in sorted(found, reverse=True):
        print(f"{length:4d} {p}:{line} {name}{' (kernel)' if kernel else ''}")
    print(f"{len(found)} functions of ≥ {limit} lines", file=sys.stderr)

main()
