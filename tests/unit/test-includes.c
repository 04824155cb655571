/* SPDX-License-Identifier: Apache-2.0 */
/* What injected code may include: headers by a relative path that stays in the include
 * directories. Anything else is refused by name, with its line, before clang opens a file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "includes.h"

struct include_case {
	const char *code;
	const char *refused; /* NULL: accepted; else what the message names */
};

static const struct include_case cases[] = {
    {"#include <linux/bpf.h>\n#include \"polycube.h\"\nint x;\n", NULL},
    {"#include <bpf/bpf_helpers.h>\n#include_next <stddef.h>\n", NULL},
    {"char *s = \"#include </etc/shadow>\";\n", NULL},
    {"// #include \"/etc/shadow\"\n/* #include \"/etc/shadow\" */\n", NULL},
    {"int a; #include \"/etc/shadow\"\n", NULL}, /* not a directive: clang says so */
    {"#include \"dir..name/x.h\"\n", NULL},
    {"#include \"/etc/shadow\"\n", "ingress.bpf.c:1: #include \"/etc/shadow\""},
    {"\n\n  #  include </etc/shadow>\n", "ingress.bpf.c:3: #include </etc/shadow>"},
    {"#include \"../../../etc/shadow\"\n", "#include \"../../../etc/shadow\""},
    {"#include <linux/../../../etc/shadow>\n", "#include <linux/../../../etc/shadow>"},
    {"#include \"a/..\"\n", "#include \"a/..\""},
    {"#include_next </etc/shadow>\n", "#include_next </etc/shadow>"},
    {"#import \"/etc/shadow\"\n", "#import \"/etc/shadow\""},
    {"#embed \"/etc/shadow\"\n", "#embed \"/etc/shadow\""},
    {"%:include \"/etc/shadow\"\n", "#include \"/etc/shadow\""},
    {"#/* hidden */include \"/etc/shadow\"\n", "#include \"/etc/shadow\""},
    {"/* a\n comment */ #include \"/etc/shadow\"\n", "ingress.bpf.c:2: #include"},
    {"#inc\\\nlude \"/et\\\nc/shadow\"\n", "#include \"/etc/shadow\""},
    {"#define F \"/etc/shadow\"\n#include F\n", "ingress.bpf.c:2: #include with a macro"},
    {"#if __has_include(\"/etc/shadow\")\n#endif\n", "__has_include \"/etc/shadow\""},
    {"asm(\".incbin \\\"/etc/shadow\\\"\");\n", "incbin"},
    /* The assembler's .incbin however spelt: upper case, split, escaped, as a token, with the
     * assembler's macro separator; an assembler macro could build it from pieces. */
    {"asm(\".INCBIN \\\"/etc/passwd\\\"\");\n", "ingress.bpf.c:1: the code asks"},
    {"asm(\".inc\" /* x */\n \"bin \\\"/etc/passwd\\\"\");\n", "incbin"},
    {"asm(\".inc\\x62in \\\"/etc/passwd\\\"\");\n", "incbin"},
    {"asm(\".inc\\142in \\\"/etc/passwd\\\"\");\n", "incbin"},
    {"asm(\".inc\\\\()bin \\\"/etc/passwd\\\"\");\n", "incbin"},
    {"#define S(x) #x\nasm(S(.incbin \"/etc/passwd\"));\n", "ingress.bpf.c:2"},
    {"asm(\".macro m a\\n.\\\\a \\\"/etc/passwd\\\"\\n.endm\");\n", "assembler macro"},
    /* The word elsewhere is no directive: in a comment, in a longer name, in a plain string. */
    {"// no incbin here\n/* .incbin */ int sincbin, incbins;\n", NULL},
    {"char *s = \"incbn\"; char c = 'i';\nasm volatile(\"\" ::: \"memory\");\n", NULL},
    {"char *s = \"in\" \"c\"; /* \"bin\" */\n", NULL},
    {"char *s = \"x\"\n#include \"/etc/shadow\"\n;\n", "ingress.bpf.c:2: #include"},
};

static void test_includes(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dm_error e = DM_ERROR_NULL;
		int r = dm_includes_check(cases[i].code, "ingress.bpf.c", &e);

		print_message("case %zu: %s", i, cases[i].code);
		if (!cases[i].refused) {
			assert_int_equal(r, 0);
			assert_null(e.message);
			continue;
		}
		assert_int_equal(r, -EXDEV);
		assert_non_null(e.message);
		if (!strstr(e.message, cases[i].refused))
			fail_msg("\"%s\" does not say \"%s\"", e.message, cases[i].refused);
		dm_error_done(&e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_includes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
