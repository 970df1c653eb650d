// SPDX-License-Identifier: GPL-2.0
/*
 * dm-skp: AES-XTS device-mapper target with keys from the kernel keyring.
 * Placeholder registration; the data path is built in its own change.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>
#include <linux/dm-skp.h>

#define DM_MSG_PREFIX DM_SKP_TARGET_NAME

static int skp_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	ti->error = "Not implemented yet";
	return -EINVAL;
}

static void skp_dtr(struct dm_target *ti)
{
}

static int skp_map(struct dm_target *ti, struct bio *bio)
{
	return DM_MAPIO_KILL;
}

static struct target_type skp_target = {
	.name    = DM_SKP_TARGET_NAME,
	.version = {DM_SKP_VERSION_MAJOR, DM_SKP_VERSION_MINOR, DM_SKP_VERSION_PATCH},
	.module  = THIS_MODULE,
	.ctr     = skp_ctr,
	.dtr     = skp_dtr,
	.map     = skp_map,
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
