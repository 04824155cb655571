#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes a C header holding a text file as one string: embed-text.py NAME INPUT OUTPUT.
import sys

name, src, out = sys.argv[1:4]
text = open(src, encoding='utf-8').read()
with open(out, 'w', encoding='utf-8') as f:
    f.write('/* Generated from %s by embed-text.py. */\n' % src.split('/')[-1])
    f.write('static const char %s[] =\n' % name)
    f.write(''.join('    "%s\\n"\n' % l.replace('\\', '\\\\').replace('"', '\\"')
                    for l in text.splitlines()) or '    ""\n')
    f.write(';\n')
