/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "config-check.h"
#include "object.h"

#define ED25519_SIGNATURE_SIZE 64
#define ED25519_KEY_SIZE 32
#define TRUSTED_KEYS_MAX 64

static const char *const object_members[] = {"elf-base64", "sha256",	"source-sha256",
					     "hook",	   "log-level", "compiler",
					     "headers",	   "signature", NULL};
static const char *const signature_members[] = {"key-id", "ed25519", NULL};
static const char *const hook_names[] = {"tc", "xdp", NULL};

void dm_sha256_hex(const void *data, size_t size, char out[DM_SHA256_HEX_SIZE])
{
	unsigned char md[32];
	unsigned len = 0;

	EVP_Digest(data, size, md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[64] = '\0';
}

/* Base64 (RFC 4648, padded, no line breaks) through libcrypto's block coder. */
static char *base64_encode(const void *data, size_t size)
{
	char *out = malloc(4 * ((size + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, size);
	return out;
}

static int base64_decode(const char *s, void **ret, size_t *ret_size)
{
	size_t len = strlen(s);
	_cleanup_free_ unsigned char *out = NULL;
	int n;

	if (len == 0 || len % 4 != 0)
		return -EINVAL;
	out = malloc(len / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	n = EVP_DecodeBlock(out, (const unsigned char *)s, len);
	if (n < 0)
		return -EINVAL;
	/* The block coder counts the padding as zero bytes. */
	n -= (s[len - 1] == '=') + (s[len - 2] == '=');
	if (n < 0)
		return -EINVAL;
	*ret = TAKE_PTR(out);
	*ret_size = n;
	return 0;
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

void dm_object_free(struct dm_object *o)
{
	if (!o)
		return;
	free(o->elf);
	free(o->compiler);
	free(o->headers);
	free(o->key_id);
	free(o->signature);
	free(o);
}

static int parse_signature(json_t *o, struct dm_object *obj, const struct cfg_place *at,
			   dm_error *e)
{
	const char *key_id, *sig;
	int r;

	r = cfg_expect_kind(o, at, KIND_OBJECT, e);
	if (r >= 0)
		r = cfg_check_members(o, at, signature_members, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "key-id", true, NULL, &key_id, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "ed25519", true, NULL, &sig, e);
	if (r < 0)
		return r;
	if (!is_hex(key_id, DM_KEY_ID_SIZE - 1))
		return cfg_bad(e, MEMBER(at, "key-id"), "expected 16 lower-case hex digits");
	if (base64_decode(sig, &obj->signature, &obj->signature_size) < 0 ||
	    obj->signature_size != ED25519_SIGNATURE_SIZE)
		return cfg_bad(e, MEMBER(at, "ed25519"),
			       "expected an Ed25519 signature (64 bytes) in base64");
	return cfg_dup_string(key_id, &obj->key_id, e);
}

static int parse_strings(json_t *o, const struct cfg_place *at, struct dm_object *obj, dm_error *e)
{
	const char *elf, *sha, *src, *compiler, *headers;
	int r;

	r = cfg_get_string(o, at, "elf-base64", true, NULL, &elf, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "sha256", true, NULL, &sha, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "source-sha256", true, NULL, &src, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "compiler", false, "", &compiler, e);
	if (r >= 0)
		r = cfg_get_string(o, at, "headers", false, "", &headers, e);
	if (r < 0)
		return r;
	if (!is_hex(sha, 64))
		return cfg_bad(e, MEMBER(at, "sha256"), "expected 64 lower-case hex digits");
	if (!is_hex(src, 64))
		return cfg_bad(e, MEMBER(at, "source-sha256"), "expected 64 lower-case hex digits");
	if (base64_decode(elf, &obj->elf, &obj->size) < 0)
		return cfg_bad(e, MEMBER(at, "elf-base64"), "not valid base64");
	memcpy(obj->sha256, sha, DM_SHA256_HEX_SIZE);
	memcpy(obj->source_sha256, src, DM_SHA256_HEX_SIZE);
	r = cfg_dup_string(compiler, &obj->compiler, e);
	if (r >= 0)
		r = cfg_dup_string(headers, &obj->headers, e);
	return r;
}

int dm_object_parse(json_t *o, const struct cfg_place *at, struct dm_object **ret, dm_error *e)
{
	_cleanup_(dm_object_freep) struct dm_object *obj = calloc(1, sizeof(*obj));
	int hook = DM_HOOK_TC;
	int64_t level = 0;
	json_t *sig;
	int r;

	if (!obj)
		return dm_error_oom(e);
	r = cfg_expect_kind(o, at, KIND_OBJECT, e);
	if (r >= 0)
		r = cfg_check_members(o, at, object_members, e);
	if (r >= 0)
		r = parse_strings(o, at, obj, e);
	if (r >= 0)
		r = cfg_get_enum(o, at, "hook", hook_names, "hook", &hook, e);
	if (r >= 0)
		r = cfg_get_integer(o, at, "log-level", 0, 7, &level, e);
	if (r < 0)
		return r;
	obj->hook = hook;
	obj->log_level = level;
	sig = json_object_get(o, "signature");
	if (sig) {
		r = parse_signature(sig, obj, MEMBER(at, "signature"), e);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(obj);
	return 0;
}

static json_t *signature_to_json(const struct dm_object *o)
{
	_cleanup_free_ char *sig = NULL;

	if (!o->key_id)
		return NULL;
	sig = base64_encode(o->signature, o->signature_size);
	if (!sig)
		return NULL;
	return json_pack("{s:s, s:s}", "key-id", o->key_id, "ed25519", sig);
}

json_t *dm_object_to_json(const struct dm_object *o)
{
	_cleanup_free_ char *elf = base64_encode(o->elf, o->size);
	json_t *j;

	if (!elf)
		return NULL;
	j = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "elf-base64", elf, "sha256", o->sha256,
		      "source-sha256", o->source_sha256, "hook", hook_names[o->hook], "log-level",
		      o->log_level, "compiler", strempty(o->compiler), "headers",
		      strempty(o->headers));
	if (j && o->key_id && json_object_set_new(j, "signature", signature_to_json(o)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int dm_object_new(const void *elf, size_t size, const char *source, enum dm_hook hook,
		  int log_level, const char *compiler, const char *headers, struct dm_object **ret)
{
	_cleanup_(dm_object_freep) struct dm_object *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->elf = malloc(size ?: 1);
	o->compiler = strdup(strempty(compiler));
	o->headers = strdup(strempty(headers));
	if (!o->elf || !o->compiler || !o->headers)
		return -ENOMEM;
	memcpy(o->elf, elf, size);
	o->size = size;
	o->hook = hook;
	o->log_level = log_level;
	dm_sha256_hex(elf, size, o->sha256);
	dm_sha256_hex(source, strlen(source), o->source_sha256);
	*ret = TAKE_PTR(o);
	return 0;
}

int dm_object_check(const struct dm_object *o, const char *source, dm_error *e)
{
	char sha[DM_SHA256_HEX_SIZE];

	dm_sha256_hex(o->elf, o->size, sha);
	if (!streq(sha, o->sha256))
		return dm_error_set(e, -EILSEQ,
				    "The object is damaged: its ELF has SHA-256 %s, its sha256 "
				    "says %s.",
				    sha, o->sha256);
	dm_sha256_hex(source, strlen(source), sha);
	if (!streq(sha, o->source_sha256))
		return dm_error_set(e, -EILSEQ,
				    "The object was not compiled from this code as this monitor "
				    "builds it (it was compiled for hook %s at log level %d): its "
				    "source-sha256 is %s, this code's %s. Compile it again with "
				    "the monitor's mode and log level (dynmonctl compile --mode, "
				    "--log-level).",
				    hook_names[o->hook], o->log_level, o->source_sha256, sha);
	return 0;
}

int dm_object_signed_bytes(const struct dm_object *o, enum dm_path path,
			   const struct dm_path_config *pc, char **ret)
{
	_cleanup_(json_decrefp) json_t *metrics = dm_path_metrics_to_json(pc);
	_cleanup_free_ char *text = NULL;
	char metrics_sha[DM_SHA256_HEX_SIZE];

	if (!metrics)
		return -ENOMEM;
	text = json_dumps(metrics, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!text)
		return -ENOMEM;
	dm_sha256_hex(text, strlen(text), metrics_sha);
	*ret = strdup_printf("dynmon-object-v1\npath: %s\nsha256: %s\nsource-sha256: %s\n"
			     "hook: %s\nlog-level: %d\nmetrics-sha256: %s\n",
			     dm_path_to_string(path), o->sha256, o->source_sha256,
			     hook_names[o->hook], o->log_level, metrics_sha);
	return *ret ? 0 : -ENOMEM;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free);

static int key_id(EVP_PKEY *key, char ret[DM_KEY_ID_SIZE])
{
	unsigned char raw[ED25519_KEY_SIZE];
	size_t len = sizeof(raw);
	char sha[DM_SHA256_HEX_SIZE];

	if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof(raw))
		return -EINVAL;
	dm_sha256_hex(raw, len, sha);
	memcpy(ret, sha, DM_KEY_ID_SIZE - 1);
	ret[DM_KEY_ID_SIZE - 1] = '\0';
	return 0;
}

/* A PEM file's Ed25519 key, private (when `private`) or public (either kind of file). */
static int read_key(const char *file, bool private, EVP_PKEY **ret, dm_error *e)
{
	_cleanup_(fclosep) FILE *f = fopen(file, "re");
	EVP_PKEY *key = NULL;

	if (!f)
		return dm_error_set(e, -errno, "Cannot open the key %s: %m", file);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (!key && !private) {
		rewind(f);
		key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	if (!key)
		return dm_error_set(e, -EINVAL, "%s holds no %s key in PEM form.", file,
				    private ? "private" : "public or private");
	if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(key);
		return dm_error_set(e, -EINVAL, "The key in %s is not an Ed25519 key.", file);
	}
	*ret = key;
	return 0;
}

int dm_key_id_of_file(const char *file, char ret[DM_KEY_ID_SIZE], dm_error *e)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	int r = read_key(file, false, &key, e);

	return r < 0 ? r : key_id(key, ret);
}

int dm_object_sign(struct dm_object *o, enum dm_path path, const struct dm_path_config *pc,
		   const char *key_file, dm_error *e)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *key = NULL;
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	_cleanup_free_ char *msg = NULL, *id = malloc(DM_KEY_ID_SIZE);
	_cleanup_free_ unsigned char *sig = malloc(ED25519_SIGNATURE_SIZE);
	size_t len = ED25519_SIGNATURE_SIZE;
	int r;

	if (!ctx || !id || !sig)
		return dm_error_oom(e);
	r = read_key(key_file, true, &key, e);
	if (r < 0)
		return r;
	r = dm_object_signed_bytes(o, path, pc, &msg);
	if (r < 0)
		return dm_error_oom(e);
	if (key_id(key, id) < 0 || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &len, (unsigned char *)msg, strlen(msg)) != 1)
		return dm_error_set(e, -EINVAL, "Cannot sign with the key in %s.", key_file);
	free(o->key_id);
	free(o->signature);
	o->key_id = TAKE_PTR(id);
	o->signature = TAKE_PTR(sig);
	o->signature_size = len;
	return 0;
}

struct dm_trust {
	EVP_PKEY *keys[TRUSTED_KEYS_MAX];
	char ids[TRUSTED_KEYS_MAX][DM_KEY_ID_SIZE];
	size_t n;
};

void dm_trust_free(struct dm_trust *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		EVP_PKEY_free(t->keys[i]);
	free(t);
}

size_t dm_trust_count(const struct dm_trust *t)
{
	return t ? t->n : 0;
}

static bool is_pem_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && streq(name + n - 4, ".pem");
}

int dm_trust_load(const char *dir, struct dm_trust **ret, dm_error *e)
{
	_cleanup_(dm_trust_freep) struct dm_trust *t = calloc(1, sizeof(*t));
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!t)
		return dm_error_oom(e);
	d = opendir(dir);
	if (!d)
		return dm_error_set(e, -errno, "Cannot open the trusted keys directory %s: %m",
				    dir);
	while (r >= 0 && (de = readdir(d))) {
		_cleanup_free_ char *file = NULL;

		if (!is_pem_name(de->d_name))
			continue;
		if (t->n == TRUSTED_KEYS_MAX) {
			r = dm_error_set(e, -E2BIG, "More than %d keys in %s.", TRUSTED_KEYS_MAX,
					 dir);
			break;
		}
		file = strdup_printf("%s/%s", dir, de->d_name);
		r = file ? read_key(file, false, &t->keys[t->n], e) : dm_error_oom(e);
		if (r >= 0 && ++t->n)
			r = key_id(t->keys[t->n - 1], t->ids[t->n - 1]);
	}
	closedir(d);
	if (r < 0)
		return r;
	if (t->n == 0)
		return dm_error_set(e, -ENOKEY, "No Ed25519 key (*.pem) in %s.", dir);
	*ret = TAKE_PTR(t);
	return 0;
}

int dm_trust_verify(const struct dm_trust *t, const struct dm_object *o, enum dm_path path,
		    const struct dm_path_config *pc, dm_error *e)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = NULL;
	_cleanup_free_ char *msg = NULL;
	const char *pname = dm_path_to_string(path);
	EVP_PKEY *key = NULL;

	if (!o->key_id)
		return dm_error_set(e, -ENOKEY,
				    "The %s object is not signed, and this daemon requires objects "
				    "signed by a key it trusts (dynmonctl compile --sign KEY).",
				    pname);
	for (size_t i = 0; !key && i < t->n; i++)
		if (streq(t->ids[i], o->key_id))
			key = t->keys[i];
	if (!key)
		return dm_error_set(e, -EKEYREVOKED,
				    "The %s object is signed by key %s, which this daemon does not "
				    "trust.",
				    pname, o->key_id);
	ctx = EVP_MD_CTX_new();
	if (!ctx || dm_object_signed_bytes(o, path, pc, &msg) < 0)
		return dm_error_oom(e);
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestVerify(ctx, o->signature, o->signature_size, (unsigned char *)msg,
			     strlen(msg)) != 1)
		return dm_error_set(e, -EKEYREVOKED,
				    "The %s object's signature by key %s does not match the object "
				    "and its metrics: they were changed after signing.",
				    pname, o->key_id);
	return 0;
}
