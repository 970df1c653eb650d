// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp: AES-XTS device-mapper target with keys from the kernel keyring and a second key
 * with a moving boundary for online re-encryption.  With one key the ciphertext is
 * byte-identical to dm-crypt aes-xts-plain64.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/key.h>
#include <linux/dm-io.h>
#include <linux/log2.h>
#include <linux/vmalloc.h>
#include <keys/user-type.h>
#include <crypto/algapi.h>

#include "skp.h"
#include "skp-test-hooks.h"

static void skp_free_key(struct skp_key *k)
{
	/* tfm contexts, keys included, are wiped when freed */
	if (k->tfm)
		crypto_free_sync_skcipher(k->tfm);
	k->tfm = NULL;
	if (k->fast)
		crypto_free_skcipher(k->fast);
	k->fast = NULL;
	kfree(k->spec);
	k->spec = NULL;
}

static void skp_dtr(struct dm_target *ti)
{
	struct skp_c *sc = ti->private;
	int i;

	if (!sc)
		return;
	cancel_delayed_work_sync(&sc->hold_expiry);
	if (sc->wq)
		destroy_workqueue(sc->wq);
	if (sc->io_client)
		dm_io_client_destroy(sc->io_client);
	vfree(sc->renc_buf);
	bioset_exit(&sc->bs);
	mempool_exit(&sc->page_pool);
	for (i = 0; i < SKP_NR_KEYS; i++)
		skp_free_key(&sc->key[i]);
	if (sc->dev)
		dm_put_device(ti, sc->dev);
	kfree(sc);
	ti->private = NULL;
}

/*
 * Is @tfm safe for skp-io.c's fast path?  That path runs wherever SIMD is usable, softirq
 * included, with no backlog flag, and waits if the request goes asynchronous: it needs a
 * request that completes synchronously there.  A synchronous algorithm does, and so does
 * crypto_simd's wrapper "<drv>" of a synchronous internal "__<drv>" (it defers to cryptd
 * only where SIMD is unusable).  A real asynchronous driver (e.g. a QAT card) does not.
 */
static bool skp_fast_usable(struct crypto_skcipher *tfm)
{
	const char *drv = crypto_skcipher_driver_name(tfm);
	char inner[CRYPTO_MAX_ALG_NAME];

	if (!(crypto_skcipher_alg(tfm)->base.cra_flags & CRYPTO_ALG_ASYNC))
		return true;
	if (snprintf(inner, sizeof(inner), "__%s", drv) >= sizeof(inner))
		return false;
	return crypto_has_skcipher(inner, CRYPTO_ALG_INTERNAL,
				   CRYPTO_ALG_INTERNAL | CRYPTO_ALG_ASYNC);
}

/*
 * A synchronous tfm for any context, and the fastest usable one for where SIMD is usable
 * (the synchronous one again when the fastest is truly asynchronous).  As dm-crypt, no
 * implementation that allocates memory per request: the data path writes back memory.
 */
static int skp_alloc_tfms(struct dm_target *ti, struct skp_key *k)
{
	struct crypto_skcipher *fast;

	k->tfm = crypto_alloc_sync_skcipher("xts(aes)", 0, CRYPTO_ALG_ALLOCATES_MEMORY);
	if (IS_ERR(k->tfm)) {
		int r = PTR_ERR(k->tfm);

		k->tfm = NULL;
		ti->error = "Cannot allocate xts(aes)";
		return r;
	}
	fast = skp_test_alloc_fast() ?:
	       crypto_alloc_skcipher("xts(aes)", 0, CRYPTO_ALG_ALLOCATES_MEMORY);
	if (!IS_ERR(fast) && !skp_fast_usable(fast)) {
		DMINFO("%s: %s completes asynchronously: using %s everywhere",
		       dm_table_device_name(ti->table), crypto_skcipher_driver_name(fast),
		       crypto_skcipher_driver_name(&k->tfm->base));
		crypto_free_skcipher(fast);
		fast = crypto_alloc_skcipher("xts(aes)", 0,
					     CRYPTO_ALG_ASYNC | CRYPTO_ALG_ALLOCATES_MEMORY);
	}
	if (IS_ERR(fast)) {
		ti->error = "Cannot allocate xts(aes)";
		return PTR_ERR(fast);
	}
	k->fast = fast;
	return 0;
}

/*
 * Check ":<size>:<logon|user>:<description>", fetch the key from the caller's keyrings
 * and load it into a new tfm.  The payload is copied once and the copy wiped.
 */
static int skp_load_key(struct dm_target *ti, struct skp_key *k, const char *spec,
			const u8 *other, u8 *save)
{
	struct key_type *type;
	const struct user_key_payload *ukp;
	struct key *key;
	const char *p, *desc;
	char size_str[8];
	unsigned int size;
	u8 *raw = NULL;
	size_t n;
	int r;

	if (spec[0] != ':') {
		ti->error = "Hex keys are refused: use :64:logon:<description>";
		return -EINVAL;
	}
	p = strchr(spec + 1, ':');
	if (!p) {
		ti->error = "Invalid key specification";
		return -EINVAL;
	}
	n = p - (spec + 1);
	if (!n || n >= sizeof(size_str)) {
		ti->error = "Invalid key size";
		return -EINVAL;
	}
	memcpy(size_str, spec + 1, n);
	size_str[n] = '\0';
	if (kstrtouint(size_str, 10, &size)) {
		ti->error = "Invalid key size";
		return -EINVAL;
	}
	if (size != DM_SKP_KEY_SIZE) {
		ti->error = "Key size must be 64 bytes (AES-256-XTS)";
		return -EINVAL;
	}
	p++;
	if (!strncmp(p, DM_SKP_KEY_TYPE_LOGON ":", sizeof(DM_SKP_KEY_TYPE_LOGON))) {
		type = &key_type_logon;
		desc = p + sizeof(DM_SKP_KEY_TYPE_LOGON);
	} else if (!strncmp(p, DM_SKP_KEY_TYPE_USER ":", sizeof(DM_SKP_KEY_TYPE_USER))) {
		type = &key_type_user;
		desc = p + sizeof(DM_SKP_KEY_TYPE_USER);
	} else {
		ti->error = "Key type must be logon or user";
		return -EINVAL;
	}
	if (!*desc) {
		ti->error = "Empty key description";
		return -EINVAL;
	}

	k->spec = kstrdup(spec, GFP_KERNEL);
	if (!k->spec) {
		ti->error = "Cannot allocate key description";
		return -ENOMEM;
	}

	key = request_key(type, desc, NULL);
	if (IS_ERR(key)) {
		r = PTR_ERR(key);
		switch (r) {
		case -ENOKEY:
			ti->error = "Key not found in the keyring";
			break;
		case -EKEYREVOKED:
			ti->error = "Key has been revoked";
			break;
		case -EKEYEXPIRED:
			ti->error = "Key has expired";
			break;
		default:
			ti->error = "Key request failed";
		}
		return r;
	}

	raw = kmalloc(DM_SKP_KEY_SIZE, GFP_KERNEL);
	if (!raw) {
		key_put(key);
		ti->error = "Cannot allocate key buffer";
		return -ENOMEM;
	}
	down_read(&key->sem);
	ukp = user_key_payload_locked(key);
	if (!ukp) {
		up_read(&key->sem);
		key_put(key);
		ti->error = "Key has been revoked";
		r = -EKEYREVOKED;
		goto out;
	}
	if (ukp->datalen != DM_SKP_KEY_SIZE) {
		up_read(&key->sem);
		key_put(key);
		ti->error = "Key payload is not 64 bytes long";
		r = -EINVAL;
		goto out;
	}
	memcpy(raw, ukp->data, DM_SKP_KEY_SIZE);
	up_read(&key->sem);
	key_put(key);

	/* xts_verify_key() refuses equal halves only in FIPS mode: refuse them always. */
	if (!crypto_memneq(raw, raw + DM_SKP_KEY_SIZE / 2, DM_SKP_KEY_SIZE / 2)) {
		ti->error = "XTS key halves are equal";
		r = -EINVAL;
		goto out;
	}
	if (other && !crypto_memneq(raw, other, DM_SKP_KEY_SIZE)) {
		ti->error = "new_key has the same bytes as key";
		r = -EINVAL;
		goto out;
	}

	r = skp_alloc_tfms(ti, k);
	if (r)
		goto out;
	r = crypto_sync_skcipher_setkey(k->tfm, raw, DM_SKP_KEY_SIZE) ?:
	    crypto_skcipher_setkey(k->fast, raw, DM_SKP_KEY_SIZE);
	if (r) {
		ti->error = "Cipher refused the key";
		goto out;
	}
	if (save)
		memcpy(save, raw, DM_SKP_KEY_SIZE);
out:
	kfree_sensitive(raw);
	return r;
}

static int skp_parse_sector(const char *s, unsigned long long *v)
{
	char dummy;

	return sscanf(s, "%llu%c", v, &dummy) == 1 ? 0 : -EINVAL;
}

static int skp_parse_opts(struct dm_target *ti, struct dm_arg_set *as,
			  const char **new_key, unsigned long long *boundary)
{
	static const struct dm_arg _args[] = {
		{0, DM_SKP_MAX_OPT_PARAMS, "Invalid number of optional parameters"},
	};
	struct skp_c *sc = ti->private;
	unsigned int opt_params, val;
	bool seen_ss = false, seen_b = false;
	const char *opt;
	char dummy;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &opt_params, &ti->error);
	if (r)
		return r;

	while (opt_params--) {
		opt = dm_shift_arg(as);
		if (!opt) {
			ti->error = "Not enough optional parameters";
			return -EINVAL;
		}
		if (!strcmp(opt, DM_SKP_OPT_IV_LARGE_SECTORS)) {
			if (sc->iv_large_sectors)
				goto dup;
			sc->iv_large_sectors = true;
		} else if (!strcmp(opt, DM_SKP_OPT_ALLOW_DISCARDS)) {
			if (sc->allow_discards)
				goto dup;
			sc->allow_discards = true;
		} else if (!strncmp(opt, DM_SKP_OPT_SECTOR_SIZE ":",
				    sizeof(DM_SKP_OPT_SECTOR_SIZE))) {
			if (seen_ss)
				goto dup;
			seen_ss = true;
			if (sscanf(opt + sizeof(DM_SKP_OPT_SECTOR_SIZE), "%u%c", &val, &dummy) != 1 ||
			    val < DM_SKP_SECTOR_SIZE_MIN || val > DM_SKP_SECTOR_SIZE_MAX ||
			    !is_power_of_2(val)) {
				ti->error = "sector_size must be 512, 1024, 2048 or 4096";
				return -EINVAL;
			}
			sc->sector_size = val;
			sc->sector_shift = __ffs(val) - SECTOR_SHIFT;
		} else if (!strncmp(opt, DM_SKP_OPT_NEW_KEY ":", sizeof(DM_SKP_OPT_NEW_KEY))) {
			if (*new_key)
				goto dup;
			*new_key = opt + sizeof(DM_SKP_OPT_NEW_KEY);
			if (!**new_key) {
				ti->error = "Empty new_key";
				return -EINVAL;
			}
		} else if (!strncmp(opt, DM_SKP_OPT_BOUNDARY ":", sizeof(DM_SKP_OPT_BOUNDARY))) {
			if (seen_b)
				goto dup;
			seen_b = true;
			if (skp_parse_sector(opt + sizeof(DM_SKP_OPT_BOUNDARY), boundary)) {
				ti->error = "Invalid boundary";
				return -EINVAL;
			}
		} else {
			ti->error = "Unknown optional parameter";
			return -EINVAL;
		}
	}
	if (!!*new_key != seen_b) {
		ti->error = *new_key ? "new_key needs boundary" : "boundary needs new_key";
		return -EINVAL;
	}
	return 0;
dup:
	ti->error = "Duplicate optional parameter";
	return -EINVAL;
}

/*
 * Construct an skp mapping:
 *
 * <cipher> <key> <iv_offset> <dev_path> <offset> [<#opt_params> <opt_params>]
 *
 * <cipher>     aes-xts-plain64 (AES-256-XTS, IV = little-endian sector number)
 * <key>        :64:logon:<description> or :64:user:<description>; hex keys are refused
 * <iv_offset>  added to the sector number (512-byte units) before it becomes the IV
 * <dev_path>   the device holding the ciphertext
 * <offset>     first sector of the ciphertext on <dev_path>
 *
 * Optional parameters:
 *   sector_size:<512|1024|2048|4096>  crypto sector size (default 512)
 *   iv_large_sectors                  IV counts crypto sectors, not 512-byte sectors
 *   allow_discards                    pass discards down
 *   new_key:<key> boundary:<sector>   two-key mode: [0, boundary) is under new_key,
 *                                     [boundary, len) under <key>; both or neither
 */
static int skp_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	const char *cipher, *key_spec, *iv_str, *dev_path, *off_str, *new_key = NULL;
	unsigned long long iv_offset, offset, boundary = 0;
	sector_t mask;
	struct skp_c *sc;
	u8 *old_raw = NULL;
	int r;

	if (argc < 5) {
		ti->error = "Not enough arguments";
		return -EINVAL;
	}
	cipher = dm_shift_arg(&as);
	key_spec = dm_shift_arg(&as);
	iv_str = dm_shift_arg(&as);
	dev_path = dm_shift_arg(&as);
	off_str = dm_shift_arg(&as);

	sc = kzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	ti->private = sc;
	sc->sector_size = SECTOR_SIZE;
	spin_lock_init(&sc->lock);
	init_waitqueue_head(&sc->drain_wait);
	bio_list_init(&sc->deferred);
	mutex_init(&sc->reencrypt_lock);
	INIT_DELAYED_WORK(&sc->hold_expiry, skp_hold_expired);
	mutex_init(&sc->page_alloc_lock);
	/* jiffies start near wrap-around: a zero would read as "later" for minutes. */
	sc->parallel_until = jiffies;

	r = -EINVAL;
	if (strcmp(cipher, DM_SKP_CIPHER)) {
		ti->error = "Unsupported cipher: only aes-xts-plain64";
		goto bad;
	}
	if (skp_parse_sector(iv_str, &iv_offset)) {
		ti->error = "Invalid iv_offset";
		goto bad;
	}
	if (skp_parse_sector(off_str, &offset) || offset != (sector_t)offset) {
		ti->error = "Invalid device offset";
		goto bad;
	}
	r = skp_parse_opts(ti, &as, &new_key, &boundary);
	if (r)
		goto bad;
	r = -EINVAL;
	if (as.argc) {
		ti->error = "Too many arguments";
		goto bad;
	}

	mask = (sc->sector_size >> SECTOR_SHIFT) - 1;
	if (ti->len & mask) {
		ti->error = "Target length is not a multiple of sector_size";
		goto bad;
	}
	if (offset & mask) {
		ti->error = "Device offset is not a multiple of sector_size";
		goto bad;
	}
	if (iv_offset & mask) {
		ti->error = "iv_offset is not a multiple of sector_size";
		goto bad;
	}
	if (new_key) {
		if (boundary > ti->len) {
			ti->error = "boundary is past the end of the target";
			goto bad;
		}
		if (boundary & mask) {
			ti->error = "boundary is not a multiple of sector_size";
			goto bad;
		}
	}
	sc->iv_offset = iv_offset;
	sc->start = offset;
	sc->boundary = boundary;
	sc->two_keys = !!new_key;

	r = dm_get_device(ti, dev_path, dm_table_get_mode(ti->table), &sc->dev);
	if (r) {
		ti->error = "Device lookup failed";
		goto bad;
	}

	if (new_key) {
		old_raw = kmalloc(DM_SKP_KEY_SIZE, GFP_KERNEL);
		if (!old_raw) {
			ti->error = "Cannot allocate key buffer";
			r = -ENOMEM;
			goto bad;
		}
	}
	r = skp_load_key(ti, &sc->key[SKP_KEY_OLD], key_spec, NULL, old_raw);
	if (r)
		goto bad;
	if (new_key) {
		r = skp_load_key(ti, &sc->key[SKP_KEY_NEW], new_key, old_raw, NULL);
		if (r)
			goto bad;
	}
	kfree_sensitive(old_raw);
	old_raw = NULL;

	r = mempool_init_page_pool(&sc->page_pool, BIO_MAX_VECS, 0);
	if (r) {
		ti->error = "Cannot allocate page mempool";
		goto bad;
	}
	r = bioset_init(&sc->bs, BIO_POOL_SIZE, 0, BIOSET_NEED_BVECS);
	if (r) {
		ti->error = "Cannot allocate bioset";
		goto bad;
	}
	/* One active work item per CPU, as kcryptd: more would only share the CPUs. */
	sc->wq = alloc_workqueue("kskpd/%s", WQ_MEM_RECLAIM | WQ_HIGHPRI | WQ_UNBOUND,
				 num_online_cpus(), dm_table_device_name(ti->table));
	if (!sc->wq) {
		ti->error = "Cannot allocate workqueue";
		r = -ENOMEM;
		goto bad;
	}
	if (sc->two_keys) {
		sc->io_client = dm_io_client_create();
		if (IS_ERR(sc->io_client)) {
			r = PTR_ERR(sc->io_client);
			sc->io_client = NULL;
			ti->error = "Cannot allocate dm-io client";
			goto bad;
		}
		/* Allocated here, not per chunk: 4 MiB of vmalloc took 5 ms a chunk in a VM. */
		sc->renc_buf = vmalloc(DM_SKP_MAX_REENCRYPT_SECTORS << SECTOR_SHIFT);
		if (!sc->renc_buf) {
			r = -ENOMEM;
			ti->error = "Cannot allocate the reencrypt buffer";
			goto bad;
		}
	}

	ti->num_flush_bios = 1;
	ti->num_discard_bios = sc->allow_discards ? 1 : 0;
	ti->per_io_data_size = sc->per_bio_data_size = skp_io_data_size(sc);
	return 0;
bad:
	kfree_sensitive(old_raw);
	skp_dtr(ti);
	return r;
}

static void skp_status(struct dm_target *ti, status_type_t type, unsigned int status_flags,
		       char *result, unsigned int maxlen)
{
	struct skp_c *sc = ti->private;
	unsigned int sz = 0, n;
	sector_t boundary, fenced;

	spin_lock(&sc->lock);
	boundary = sc->boundary;
	fenced = sc->fence_end - sc->fence_start;
	spin_unlock(&sc->lock);

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("%llu %llu %llu %llu %llu %llu %llu",
		       (unsigned long long)boundary, (unsigned long long)ti->len,
		       (unsigned long long)atomic64_read(&sc->sectors_read),
		       (unsigned long long)atomic64_read(&sc->sectors_written),
		       (unsigned long long)atomic64_read(&sc->sectors_reencrypted),
		       (unsigned long long)atomic64_read(&sc->io_errors),
		       (unsigned long long)fenced);
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %llu %s %llu", DM_SKP_CIPHER, sc->key[SKP_KEY_OLD].spec,
		       (unsigned long long)sc->iv_offset, sc->dev->name,
		       (unsigned long long)sc->start);
		n = (sc->sector_size != SECTOR_SIZE) + sc->iv_large_sectors +
		    sc->allow_discards + (sc->two_keys ? 2 : 0);
		if (!n)
			break;
		DMEMIT(" %u", n);
		if (sc->sector_size != SECTOR_SIZE)
			DMEMIT(" " DM_SKP_OPT_SECTOR_SIZE ":%u", sc->sector_size);
		if (sc->iv_large_sectors)
			DMEMIT(" " DM_SKP_OPT_IV_LARGE_SECTORS);
		if (sc->allow_discards)
			DMEMIT(" " DM_SKP_OPT_ALLOW_DISCARDS);
		if (sc->two_keys)
			DMEMIT(" " DM_SKP_OPT_NEW_KEY ":%s " DM_SKP_OPT_BOUNDARY ":%llu",
			       sc->key[SKP_KEY_NEW].spec, (unsigned long long)boundary);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",cipher=%s,sector_size=%u,iv_large_sectors=%c,allow_discards=%c,two_keys=%c;",
		       DM_SKP_CIPHER, sc->sector_size, sc->iv_large_sectors ? 'y' : 'n',
		       sc->allow_discards ? 'y' : 'n', sc->two_keys ? 'y' : 'n');
		break;
	}
}

/*
 * Replace every key by random bytes: the data stays unreadable until a table reload.
 * Under reencrypt_lock, as presuspend and preresume: a reencrypt must not write a chunk
 * under a half-wiped key, nor a resume let I/O in after the check of key_wiped.
 */
static int skp_wipe_keys(struct dm_target *ti)
{
	struct skp_c *sc = ti->private;
	u8 *junk;
	int i, r = 0;

	skp_test_message_gate();
	junk = kmalloc(DM_SKP_KEY_SIZE, GFP_KERNEL);
	if (!junk)
		return -ENOMEM;
	mutex_lock(&sc->reencrypt_lock);
	/* Suspended, and no resume under way (its preresume already checked key_wiped). */
	if (!sc->suspending || !dm_suspended(ti)) {
		mutex_unlock(&sc->reencrypt_lock);
		kfree(junk);
		DMERR("key wipe: the device is not suspended");
		return -EINVAL;
	}
	for (i = 0; i < SKP_NR_KEYS; i++) {
		if (!sc->key[i].tfm)
			continue;
		get_random_bytes(junk, DM_SKP_KEY_SIZE);
		junk[0] = ~junk[DM_SKP_KEY_SIZE / 2];	/* halves differ */
		r = crypto_sync_skcipher_setkey(sc->key[i].tfm, junk, DM_SKP_KEY_SIZE) ?: r;
		r = crypto_skcipher_setkey(sc->key[i].fast, junk, DM_SKP_KEY_SIZE) ?: r;
	}
	sc->key_wiped = true;
	mutex_unlock(&sc->reencrypt_lock);
	kfree_sensitive(junk);
	return r;
}

/* "driver": which implementations run the crypto (fast path, then any context). */
static int skp_report_driver(struct skp_c *sc, char *result, unsigned int maxlen)
{
	struct skp_key *k = &sc->key[SKP_KEY_OLD];
	unsigned int sz = 0;

	DMEMIT("%s %s", crypto_skcipher_driver_name(k->fast),
	       crypto_skcipher_driver_name(&k->tfm->base));
	return 1;	/* result holds text for userspace */
}

/*
 * Messages:
 *   reencrypt <sector> <count>   (two-key mode; <sector> == boundary; see skp-reencrypt.c)
 *   hold <sector> <count>        (lock the range reencrypt will rewrite; see skp-reencrypt.c)
 *   release                      (drop a hold)
 *   key wipe                     (suspended device only)
 *   driver                       (answers the crypto drivers in use)
 */
static int skp_message(struct dm_target *ti, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen)
{
	struct skp_c *sc = ti->private;
	unsigned long long sector, count;

	if (argc == 3 && !strcasecmp(argv[0], DM_SKP_MSG_REENCRYPT)) {
		if (skp_parse_sector(argv[1], &sector) || skp_parse_sector(argv[2], &count)) {
			DMERR("reencrypt: invalid number");
			return -EINVAL;
		}
		return skp_reencrypt(ti, sector, count);
	}
	if (argc == 3 && !strcasecmp(argv[0], DM_SKP_MSG_HOLD)) {
		if (skp_parse_sector(argv[1], &sector) || skp_parse_sector(argv[2], &count)) {
			DMERR("hold: invalid number");
			return -EINVAL;
		}
		return skp_hold(ti, sector, count);
	}
	if (argc == 1 && !strcasecmp(argv[0], DM_SKP_MSG_RELEASE)) {
		skp_release(sc);
		return 0;
	}
	if (argc == 2 && !strcasecmp(argv[0], DM_SKP_MSG_KEY) &&
	    !strcasecmp(argv[1], DM_SKP_MSG_KEY_WIPE))
		return skp_wipe_keys(ti);
	if (argc == 1 && !strcasecmp(argv[0], DM_SKP_MSG_DRIVER))
		return skp_report_driver(sc, result, maxlen);
	if (argc >= 1 && !strcasecmp(argv[0], DM_SKP_MSG_REENCRYPT))
		DMERR("reencrypt: expected <sector> <count>");
	else if (argc >= 1 && !strcasecmp(argv[0], DM_SKP_MSG_HOLD))
		DMERR("hold: expected <sector> <count>");
	else if (argc >= 1 && !strcasecmp(argv[0], DM_SKP_MSG_RELEASE))
		DMERR("release: takes no argument");
	else if (argc >= 1 && !strcasecmp(argv[0], DM_SKP_MSG_KEY))
		DMERR("key: only \"key wipe\" is supported");
	else if (argc >= 1 && !strcasecmp(argv[0], DM_SKP_MSG_DRIVER))
		DMERR("driver: takes no argument");
	else
		DMERR("unrecognised message: %s", argc ? argv[0] : "(empty)");
	return -EINVAL;
}

/*
 * Deferred bios count as in flight: a held range must not stall the suspend.  From here
 * until resume, hold and reencrypt are refused: dm core lets a message already running
 * finish before the suspend completes, but one that has not locked yet would rewrite a
 * chunk without the hold just dropped (user writes may have changed it since its record).
 */
static void skp_presuspend(struct dm_target *ti)
{
	struct skp_c *sc = ti->private;

	mutex_lock(&sc->reencrypt_lock);
	sc->suspending = true;
	skp_drop_hold(sc, true);
	mutex_unlock(&sc->reencrypt_lock);
	skp_test_presuspend();
}

static void skp_presuspend_undo(struct dm_target *ti)
{
	struct skp_c *sc = ti->private;

	mutex_lock(&sc->reencrypt_lock);
	sc->suspending = false;
	mutex_unlock(&sc->reencrypt_lock);
}

/* Ends the suspend window: from here key wipe is refused, until resume hold too. */
static int skp_preresume(struct dm_target *ti)
{
	struct skp_c *sc = ti->private;
	int r = 0;

	mutex_lock(&sc->reencrypt_lock);
	if (sc->key_wiped) {
		DMERR("keys were wiped: reload the table to resume");
		r = -EAGAIN;
	} else {
		sc->suspending = false;
	}
	mutex_unlock(&sc->reencrypt_lock);
	return r;
}

static int skp_iterate_devices(struct dm_target *ti, iterate_devices_callout_fn fn,
			       void *data)
{
	struct skp_c *sc = ti->private;

	return fn(ti, sc->dev, sc->start, ti->len, data);
}

static void skp_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct skp_c *sc = ti->private;

	/* Bounce pages are single pages: keep segments within one. */
	limits->max_segment_size = PAGE_SIZE;
	limits->logical_block_size = max_t(unsigned int, limits->logical_block_size,
					   sc->sector_size);
	limits->physical_block_size = max_t(unsigned int, limits->physical_block_size,
					    sc->sector_size);
	limits->io_min = max_t(unsigned int, limits->io_min, sc->sector_size);
	limits->dma_alignment = limits->logical_block_size - 1;
}

static struct target_type skp_target = {
	.name    = DM_SKP_TARGET_NAME,
	.version = {DM_SKP_VERSION_MAJOR, DM_SKP_VERSION_MINOR, DM_SKP_VERSION_PATCH},
	.module  = THIS_MODULE,
	.ctr     = skp_ctr,
	.dtr     = skp_dtr,
	.map     = skp_map,
	.end_io  = skp_end_io,
	.status  = skp_status,
	.message = skp_message,
	.presuspend = skp_presuspend,
	.presuspend_undo = skp_presuspend_undo,
	.preresume = skp_preresume,
	.iterate_devices = skp_iterate_devices,
	.io_hints = skp_io_hints,
};

static int __init dm_skp_init(void)
{
	return dm_register_target(&skp_target);
}

static void __exit dm_skp_exit(void)
{
	dm_unregister_target(&skp_target);
}

module_init(dm_skp_init);
module_exit(dm_skp_exit);

MODULE_DESCRIPTION(DM_NAME " AES-XTS target with keyring keys (skp)");
MODULE_LICENSE("GPL");
