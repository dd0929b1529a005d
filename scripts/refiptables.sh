#!/bin/bash
# Fetches the reference iptables of other versions from Debian's archive
# and makes them runnable beside the host's own, without installing them.
#
#   scripts/refiptables.sh [VERSION ...]     (default: 1.8.11 1.8.13)
#
# VERSION is 1.8.11 (Debian trixie) or 1.8.13 (Debian sid). For each,
# .cache/ref/iptables-VERSION/bin gets the usual command names
# (iptables-legacy-save, ip6tables-nft-restore, xtables-nft-multi, ...):
# small scripts that run the unpacked binary through its own suite's
# dynamic loader and libraries, with XTABLES_LIBDIR set to its extensions.
# The script prints each bin directory. Packages are verified by apt
# against Debian's archive keyring and kept in .cache/ref, so a second
# run is offline. See DEVELOPERS.md.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=$top/.cache/ref
versions=("$@")
[ ${#versions[@]} = 0 ] && versions=(1.8.11 1.8.13)

suite_of() {
	case $1 in
	1.8.11) echo trixie ;;
	1.8.13) echo sid ;;
	*) echo "refiptables: no Debian suite known for iptables $1 (1.8.11, 1.8.13)" >&2; return 1 ;;
	esac
}

pkgs="iptables libxtables12 libip4tc2 libip6tc2 libnftnl11 libmnl0 libnetfilter-conntrack3 libnfnetlink0 libc6"
apt_dir=$cache/apt
apt_opts=(
	-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Dir::State::Status=/dev/null
	-o Acquire::Languages=none -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false
	-o Acquire::IndexTargets::deb::CNF::DefaultEnabled=false
)

updated=no
apt_update() {
	[ $updated = yes ] && return
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	{
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main"
	} >"$apt_dir/sources.list"
	apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root -qq update >&2
	updated=yes
}

for v in "${versions[@]}"; do
	suite=$(suite_of "$v")
	dir=$cache/iptables-$v
	if [ ! -x "$dir/bin/iptables-nft-save" ]; then
		debs=$cache/debs-$suite
		if [ ! -e "$debs/.complete" ]; then
			apt_update
			rm -rf "$debs" && mkdir -p "$debs"
			(cd "$debs" && apt-get "${apt_opts[@]}" -o APT::Sandbox::User=root -qq download $(for p in $pkgs; do echo "$p/$suite"; done) >&2)
			touch "$debs/.complete"
		fi
		got=$(dpkg-deb -f "$debs"/iptables_*.deb Version)
		case $got in
		"$v"-*) ;;
		*) echo "refiptables: $suite has iptables $got, not $v" >&2; exit 1 ;;
		esac
		rm -rf "$dir" && mkdir -p "$dir/root" "$dir/bin"
		for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
		root=$dir/root
		ld=$(ls "$root"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 2>/dev/null | head -1 || true)
		libs=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu
		for backend in legacy nft; do
			multi=$root/usr/sbin/xtables-$backend-multi
			cat >"$dir/bin/xtables-$backend-multi" <<EOF
#!/bin/sh
# iptables $v ($suite), unpacked by scripts/refiptables.sh
export XTABLES_LIBDIR=$root/usr/lib/x86_64-linux-gnu/xtables
exec $ld --library-path $libs $multi "\$@"
EOF
			chmod +x "$dir/bin/xtables-$backend-multi"
			for fam in iptables ip6tables; do
				for cmd in "" -save -restore; do
					name=$fam-$backend$cmd
					printf '#!/bin/sh\nexec %s %s "$@"\n' "$dir/bin/xtables-$backend-multi" "$fam$cmd" >"$dir/bin/$name"
					chmod +x "$dir/bin/$name"
				done
			done
		done
	fi
	got=$("$dir/bin/iptables-nft-save" --version 2>&1 || true)
	case $got in
	*"v$v "*) ;;
	*) echo "refiptables: $dir/bin/iptables-nft-save says '$got', want v$v" >&2; exit 1 ;;
	esac
	echo "$dir/bin"
done
