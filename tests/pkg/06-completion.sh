#!/bin/bash
# skpctl's bash completion offers the commands, a command's options, the mappings skpctl
# list shows (a stand-in skpctl here: no daemon) and the providers of the config in use.
. tests/lib/common.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/skpctl" <<'EOS'
#!/bin/sh
[ "$1" = list ] || exit 1
printf 'MAPPING DEVICE UUID PROVIDER KEK GEN REKEY\ndata /dev/sdb u p k 1 none\ndb /dev/sdc u p k 1 none\n'
EOS
chmod +x "$tmp/skpctl"
printf '[skpd]\n[provider "kms-a"]\n[provider "kms-b"]\n' > "$tmp/skpd.conf"
set +eu
# shellcheck disable=SC1091
. /usr/share/bash-completion/bash_completion
. daemon/completion/skpctl
PATH=$tmp:$PATH
# complete LINE: what TAB offers at the end of LINE (a trailing space starts a new word).
complete_line() {
	COMP_LINE=$1 COMP_POINT=${#1}
	read -ra COMP_WORDS <<< "$1"
	[[ $1 == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_skpctl skpctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	echo "${COMPREPLY[*]}" | tr ' ' '\n' | sort | paste -sd ' ' -
}
set -eu
assert_eq "$(complete_line 'skpctl re')" "rekey reload" "commands"
assert_eq "$(complete_line 'skpctl close ')" "data db" "mappings of skpctl list"
assert_eq "$(complete_line 'skpctl rekey d')" "data db" "mappings for rekey"
assert_eq "$(complete_line "skpctl list --config $tmp/skpd.conf --provider ")" "kms-a kms-b" \
	"providers of --config"
assert_eq "$(complete_line 'skpctl format /dev/x --sector')" "--sector-size" "format's options"
assert_eq "$(complete_line 'skpctl provider ')" "backup list restore test" "provider's subcommands"
assert_eq "$(complete_line "skpctl provider backup --config $tmp/skpd.conf ")" "kms-a kms-b" "provider backup NAME"
assert_eq "$(complete_line 'skpctl provider restore kms-a --pass')" "--passphrase-file" "provider restore's option"
assert_eq "$(complete_line 'skpctl dump --u')" "--udev" "dump's option"
# Global options before the command: the command is still found.
assert_eq "$(complete_line 'skpctl --socket /run/x cl')" "close" "a command after --socket VALUE"
assert_eq "$(complete_line 'skpctl --batch close ')" "data db" "mappings after a global flag"
assert_eq "$(complete_line 'skpctl open /dev/x y --allow-')" "--allow-discards --allow-superseded" "open's options"
assert_eq "$(complete_line 'skpctl dump /dev/x --j')" "--json" "dump --json"
assert_eq "$(complete_line 'skpctl kms --server a --ca b de')" "destroy" "kms subcommands after its options"
assert_eq "$(complete_line 'skpctl help pro')" "provider" "help COMMAND"
# Create settings: offered to create and create-kek only; their value is not a subcommand.
assert_eq "$(complete_line 'skpctl kms create-kek --o')" "--object-group --operation-policy-name" \
	"create-kek's Create settings"
assert_eq "$(complete_line 'skpctl kms get --o')" "" "get takes no Create settings"
assert_eq "$(complete_line 'skpctl kms --object-group g de')" "destroy" "a subcommand after --object-group VALUE"
# A client key in the TPM: tpm-key's subcommands and options; --key-type's values.
assert_eq "$(complete_line 'skpctl tp')" "tpm-key" "tpm-key"
assert_eq "$(complete_line 'skpctl tpm-key ')" "create csr" "tpm-key's subcommands"
assert_eq "$(complete_line 'skpctl tpm-key create /x --key')" "--key-type" "create's --key-type"
assert_eq "$(complete_line 'skpctl tpm-key csr tpm:/x --key')" "" "csr makes no key"
assert_eq "$(complete_line 'skpctl tpm-key create /x --key-type ')" "ec rsa" "key types"
assert_eq "$(complete_line 'skpctl kms --tpm-tcti swtpm:path=/s de')" "destroy" "kms after --tpm-tcti VALUE"
echo "commands, options, mappings and providers complete"
