/* Unit tests for runtime-hooks/trust/storage.c on a containers-storage tree
 * written by the test in the layout Debian's podman 4.3 and skopeo 1.9 write
 * (tests/system/test-trust-storage.sh checks it against the real thing):
 * which manifests and signatures count as the image's, and which records are
 * refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../runtime-hooks/trust/storage.h"

#define IMAGE_ID	"1111111111111111111111111111111111111111111111111111111111111111"
#define OTHER_ID	"2222222222222222222222222222222222222222222222222222222222222222"
#define CONTAINER_ID	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define TOP_LAYER	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define CONTAINER_LAYER "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char root[] = "/tmp/pw-test-trust-storage.XXXXXX";
static char manifest_digest[80], foreign_digest[80], list_digest[80];

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void digest_of(const char *text, char *ret)
{
	unsigned char md[32];
	unsigned len;

	EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
	strcpy(ret, "sha256:");
	for (int i = 0; i < 32; i++)
		sprintf(ret + 7 + 2 * i, "%02x", md[i]);
}

static void write_big_data(const char *key, const char *text, size_t len)
{
	char name[512];

	assert_int_equal(storage_big_data_name(key, name, sizeof(name)), 0);
	write_file("vfs-images/" IMAGE_ID, name, text, len);
}

static void write_manifest(const char *text, char *ret_digest)
{
	char key[128];

	digest_of(text, ret_digest);
	snprintf(key, sizeof(key), "manifest-%s", ret_digest);
	write_big_data(key, text, strlen(text));
}

/* The image: its own manifest, a list naming it, a manifest of another
 * image (stored under the image by an attacker) and a tampered one; one
 * signature of 5 bytes and one of 3 under the image's manifest. */
static void write_images(const char *sizes)
{
	char images[8192], metadata[1024], tampered_digest[80];
	static const char manifest[] =
	    "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" IMAGE_ID "\"}}";
	static const char foreign[] =
	    "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" OTHER_ID "\"}}";
	char list[512];

	write_manifest(manifest, manifest_digest);
	write_manifest(foreign, foreign_digest);
	snprintf(list, sizeof(list), "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"%s\"}]}",
		 manifest_digest);
	write_manifest(list, list_digest);
	/* Stored under a digest it does not hash to. */
	strcpy(tampered_digest, "sha256:");
	memset(tampered_digest + 7, 'e', 64);
	tampered_digest[71] = '\0';
	{
		char key[128];

		snprintf(key, sizeof(key), "manifest-%s", tampered_digest);
		write_big_data(key, manifest, strlen(manifest));
	}
	{
		char key[128];

		snprintf(key, sizeof(key), "signature-%s", manifest_digest + 7);
		write_big_data(key, "\x89sig1sig", 8);
	}
	snprintf(metadata, sizeof(metadata), "{\\\"signatures-sizes\\\":{\\\"%s\\\":%s}}",
		 manifest_digest, sizes);
	snprintf(images, sizeof(images),
		 "[{\"id\":\"" IMAGE_ID "\",\"names\":[\"registry.example/app:1\"],"
		 "\"layer\":\"" TOP_LAYER "\",\"metadata\":\"%s\",\"big-data-names\":"
		 "[\"manifest\",\"manifest-%s\",\"manifest-%s\",\"manifest-%s\",\"manifest-%s\","
		 "\"signature-%s\"]}]",
		 metadata, manifest_digest, foreign_digest, list_digest, tampered_digest,
		 manifest_digest + 7);
	write_file("vfs-images", "images.json", images, strlen(images));
}

static void write_layers(const char *parent)
{
	char layers[1024];

	snprintf(layers, sizeof(layers),
		 "[{\"id\":\"" TOP_LAYER "\"},{\"id\":\"" CONTAINER_LAYER "\",\"parent\":\"%s\"}]",
		 parent);
	write_file("vfs-layers", "layers.json", layers, strlen(layers));
}

static const char containers_json[] =
    "[{\"id\":\"" CONTAINER_ID "\",\"image\":\"" IMAGE_ID "\",\"layer\":\"" CONTAINER_LAYER
    "\",\"metadata\":\"{\\\"image-name\\\":\\\"registry.example/app:1\\\"}\"}]";

static int setup(void **state)
{
	char cmd[4096];

	if (!mkdtemp(root))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/vfs-containers/" CONTAINER_ID "/userdata %s/vfs-images/" IMAGE_ID
		 " %s/vfs-layers %s/run/vfs-containers",
		 root, root, root, root);
	if (system(cmd) != 0)
		return -1;
	write_file("vfs-containers", "containers.json", containers_json, strlen(containers_json));
	write_layers(TOP_LAYER);
	write_images("[5,3]");
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static int teardown(void **state)
{
	nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static struct storage_location location(void)
{
	struct storage_location loc = {};

	snprintf(loc.graph_root, sizeof(loc.graph_root), "%s", root);
	strcpy(loc.driver, "vfs");
	return loc;
}

static int read_identity(struct image_identity *id, struct pw_error *err)
{
	struct storage_location loc = location();

	return storage_identity_read(&loc, CONTAINER_ID, id, err);
}

static void test_identity(void **state)
{
	struct image_identity id;
	struct pw_error err = {};

	assert_int_equal(read_identity(&id, &err), 0);
	assert_string_equal(id.image_id, IMAGE_ID);
	assert_string_equal(id.image_name, "registry.example/app:1");
	assert_string_equal(id.top_layer, TOP_LAYER);
	/* Its manifest and the list naming it; not the other image's manifest
	 * nor the one stored under a digest it does not hash to. */
	assert_int_equal(id.manifest_count, 2);
	assert_string_equal(id.manifest_digests[0], manifest_digest);
	assert_string_equal(id.manifest_digests[1], list_digest);
	assert_int_equal(id.signature_count, 2);
	assert_int_equal(id.signatures[0].len, 5);
	assert_memory_equal(id.signatures[0].data, "\x89sig1", 5);
	assert_int_equal(id.signatures[1].len, 3);
	assert_memory_equal(id.signatures[1].data, "sig", 3);
	assert_string_equal(id.signatures[1].manifest_digest, manifest_digest);
	image_identity_done(&id);
}

static void test_refusals(void **state)
{
	struct image_identity id;
	struct pw_error err = {};
	struct storage_location loc = location();

	/* The container layer does not sit on the image's top layer. */
	write_layers(OTHER_ID);
	assert_int_equal(read_identity(&id, &err), -EBADMSG);
	assert_non_null(strstr(pw_error_message(&err), "is not image"));
	write_layers(TOP_LAYER);

	/* Signature sizes that do not add up to what is stored. */
	write_images("[5,4]");
	assert_int_equal(read_identity(&id, &err), -EBADMSG);
	assert_non_null(strstr(pw_error_message(&err), "do not match"));
	write_images("[5]");
	assert_int_equal(read_identity(&id, &err), -EBADMSG);
	write_images("[5,3]");

	/* Unknown container; no storage at all. */
	assert_int_equal(storage_identity_read(&loc, OTHER_ID, &id, &err), -ENOENT);
	assert_non_null(strstr(pw_error_message(&err), "no image identity"));
	assert_int_equal(storage_identity_read(&loc, "../etc", &id, &err), -EINVAL);
	strcpy(loc.driver, "overlay");
	assert_int_equal(storage_identity_read(&loc, CONTAINER_ID, &id, &err), -ENOENT);
}

static void test_volatile(void **state)
{
	struct storage_location loc = location();
	struct image_identity id;
	struct pw_error err = {};
	char run[4096];

	/* A container podman keeps in the run root (volatile) only. */
	write_file("vfs-containers", "containers.json", "[]", 2);
	assert_int_equal(storage_identity_read(&loc, CONTAINER_ID, &id, &err), -ENOENT);
	write_file("run/vfs-containers", "volatile-containers.json", containers_json,
		   strlen(containers_json));
	snprintf(run, sizeof(run), "%s/run", root);
	snprintf(loc.run_root, sizeof(loc.run_root), "%s", run);
	assert_int_equal(storage_identity_read(&loc, CONTAINER_ID, &id, &err), 0);
	assert_string_equal(id.image_id, IMAGE_ID);
	image_identity_done(&id);
	write_file("vfs-containers", "containers.json", containers_json, strlen(containers_json));
}

static void test_bundle(void **state)
{
	struct storage_location loc;
	char id[STORAGE_ID_LEN + 1], path[4096];
	struct pw_error err = {};

	snprintf(path, sizeof(path), "%s/vfs-containers/" CONTAINER_ID "/userdata", root);
	assert_int_equal(storage_locate_bundle(path, &loc, id, &err), 0);
	assert_string_equal(loc.graph_root, root);
	assert_string_equal(loc.driver, "vfs");
	assert_string_equal(id, CONTAINER_ID);

	snprintf(path, sizeof(path), "%s/vfs-containers/" CONTAINER_ID, root);
	assert_int_equal(storage_locate_bundle(path, &loc, id, &err), -EINVAL);
	snprintf(path, sizeof(path), "%s/vfs-images/" IMAGE_ID, root);
	assert_int_equal(storage_locate_bundle(path, &loc, id, &err), -EINVAL);
	assert_int_equal(storage_locate_bundle("/nonexistent/bundle", &loc, id, &err), -ENOENT);
}

static void test_big_data_name(void **state)
{
	char name[256];

	/* As containers-storage names them (seen in Debian's podman 4.3). */
	assert_int_equal(storage_big_data_name("manifest", name, sizeof(name)), 0);
	assert_string_equal(name, "manifest");
	assert_int_equal(storage_big_data_name("signatures", name, sizeof(name)), 0);
	assert_string_equal(name, "signatures");
	assert_int_equal(storage_big_data_name("signature-a1692cde0a9dfa85eb7398243344faa60dc6e2de"
					       "260f16f47b88de5cbd83c204",
					       name, sizeof(name)),
			 0);
	assert_string_equal(name, "=c2lnbmF0dXJlLWExNjkyY2RlMGE5ZGZhODVlYjczOTgyNDMzNDRmYWE2MG"
				  "RjNmUyZGUyNjBmMTZmNDdiODhkZTVjYmQ4M2MyMDQ=");
	assert_int_equal(storage_big_data_name("manifest", name, 4), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity),	  cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_volatile),	  cmocka_unit_test(test_bundle),
	    cmocka_unit_test(test_big_data_name),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
