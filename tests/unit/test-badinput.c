// SPDX-License-Identifier: LGPL-2.1-or-later
/* test-badinput.c - every broken file of tests/data/bad gives its one expected error line */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnet/vnet.h"

#define MAX_FILES 256

/* The first line of @path, without its newline. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)len, f));
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* One file: "bad/NAME.yaml" fails with -EINVAL, no model, and the line of "bad/NAME.err". */
static void test_bad_file(void **state)
{
	const char *yaml = *state;
	char err_path[512], want[1024], got[1024];
	struct vnet_model *m = (struct vnet_model *)1;
	struct vnet_error e;
	size_t n = strlen(yaml);

	snprintf(err_path, sizeof(err_path), "%.*s.err", (int)(n - 5), yaml);
	read_line(err_path, want, sizeof(want));
	assert_int_equal(vnet_topo_load(yaml, NULL, &m, &e), -EINVAL);
	assert_null(m);
	assert_int_equal(e.err, 0);
	vnet_error_format(&e, got, sizeof(got));
	assert_string_equal(got, want);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct CMUnitTest *)a)->name, ((const struct CMUnitTest *)b)->name);
}

int main(void)
{
	static struct CMUnitTest tests[MAX_FILES];
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	if (chdir(VNET_TEST_DATA) < 0 || !(dir = opendir("bad"))) {
		perror(VNET_TEST_DATA "/bad");
		return 1;
	}
	while ((d = readdir(dir)) && n < MAX_FILES) {
		size_t len = strlen(d->d_name);
		char *path;

		if (len < 6 || strcmp(d->d_name + len - 5, ".yaml"))
			continue;
		if (asprintf(&path, "bad/%s", d->d_name) < 0)
			return 1;
		tests[n++] = (struct CMUnitTest){ .name = path,
						  .test_func = test_bad_file,
						  .initial_state = path };
	}
	closedir(dir);
	qsort(tests, n, sizeof(tests[0]), by_name);
	/* Fewer files than the corpus holds means the directory was not found whole. */
	if (n < 35) {
		fprintf(stderr, "only %zu files in %s/bad\n", n, VNET_TEST_DATA);
		return 1;
	}
	return _cmocka_run_group_tests("badinput", tests, n, NULL, NULL);
}
