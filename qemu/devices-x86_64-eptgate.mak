# QEMU devices file for the eptgate KVM-only build (scripts/qemu/build.sh copies
# it to configs/devices/x86_64-softmmu/eptgate.mak and configures with
# --without-default-devices --with-devices-x86_64=eptgate).
#
# q35 brings what the PC machine selects (ISA serial, i8254, RTC, ICH9 AHCI
# and LPC, fw_cfg); nothing that is merely "implied" by a board is built.
CONFIG_PCI_DEVICES=n
CONFIG_Q35=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
# hw/misc/eptgate.c (qemu/patches/0001-*): "default y if PCI_DEVICES" does not
# apply with CONFIG_PCI_DEVICES=n
CONFIG_EPTGATE_PCI=y
