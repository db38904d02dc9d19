// SPDX-License-Identifier: GPL-2.0
/*
 * object.c: what the app does to an object between opening and loading it: choosing the program
 * to attach and setting its tunables.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "app.h"

/*
 * The program to attach: the one whose name or section is WANT (program=WANT on the load line), else
 * the object's first XDP program. Only it is loaded: the object's other programs (a tc program
 * beside it) are not the kernel's business here.
 */
struct bpf_program *object_choose_program(struct out *o, struct bpf_object *obj, const char *path,
					  const char *want)
{
	struct bpf_program *p, *chosen = NULL;
	char names[256] = "";
	size_t len = 0;

	bpf_object__for_each_program(p, obj) {
		bool match = want ? !strcmp(bpf_program__name(p), want) ||
				    !strcmp(bpf_program__section_name(p), want) :
				    bpf_program__type(p) == BPF_PROG_TYPE_XDP;

		if (match && !chosen)
			chosen = p;
		if (len < sizeof(names))
			len += snprintf(names + len, sizeof(names) - len, "%s%s (section %s)", len ? ", " : "",
					bpf_program__name(p), bpf_program__section_name(p));
	}
	if (!chosen) {
		if (want)
			out_error(o, "%s has no program or section named '%s': it has %s\n", path, want,
				  len ? names : "none");
		else
			out_error(o, "%s has no XDP program: it has %s - name one with program=NAME, or attach tc programs with tc\n",
				  path, len ? names : "none");
		return NULL;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, p == chosen);
	return chosen;
}

/*
 * Sets a `const volatile` global of the object (a tunable in .rodata, found through BTF) before
 * load: NAME=VALUE on the load line, e.g. report_every_packet=1.
 */
int object_set_tunable(struct bpf_object *obj, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	char name[64];
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *rodata = NULL, *m;
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	unsigned long long value;
	const void *initial;
	char *end, *data;
	size_t size;
	int id, err = -ENOENT;

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(name))
		return -EINVAL;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - assignment), assignment);
	errno = 0;
	value = strtoull(eq + 1, &end, 0);
	if (errno || !eq[1] || *end)
		return -EINVAL;
	/* The map of .rodata itself, not of .rodata.str1.1 and the like (its name ends in ".rodata"). */
	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);

		if (len >= 7 && !strcmp(n + len - 7, ".rodata"))
			rodata = m;
	}
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (!rodata || id < 0)
		return -ENOENT;
	initial = bpf_map__initial_value(rodata, &size);
	data = initial ? malloc(size) : NULL;
	if (!data)
		return -ENOMEM;
	memcpy(data, initial, size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->offset + vs->size > size || vs->size > sizeof(value)) {
			err = -ERANGE;
			break;
		}
		memcpy(data + vs->offset, &value, vs->size);	/* little endian */
		err = bpf_map__set_initial_value(rodata, data, size);
		break;
	}
	free(data);
	return err;
}
