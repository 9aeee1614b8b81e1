#!/usr/bin/env bash
# Installs EdgeVault on Debian 12 / Raspberry Pi OS (amd64 or arm64): system packages, a
# release build, binaries, /etc/edgevault/vaultd.toml, the edgevault user and group, and the
# systemd unit. Idempotent: run it again to upgrade.
#
#   sudo deploy/install.sh                  install (builds in release mode)
#   sudo deploy/install.sh --uninstall      remove binaries, unit and config; keep the data
#   sudo deploy/install.sh --uninstall --purge   also delete /var/lib/edgevault
#
# Options for packagers and tests:
#   --root DIR       install under DIR instead of / (no user, no systemctl)
#   --binaries DIR   install vaultd, vault-cli and edgevault-sandbox from DIR instead of building
set -euo pipefail
cd "$(dirname "$0")/.."

root="" binaries="" uninstall=0 purge=0
while (($#)); do
  case "$1" in
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --binaries) binaries="${2:?--binaries needs a directory}"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z $root && $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root (sudo), or pass --root DIR" >&2
  exit 1
fi

bin="$root/usr/local/bin" etc="$root/etc/edgevault" unitdir="$root/etc/systemd/system"
sysusers="$root/etc/sysusers.d" tmpfiles="$root/etc/tmpfiles.d" data="$root/var/lib/edgevault"
doc="$root/usr/local/share/doc/edgevault"

if ((uninstall)); then
  if [[ -z $root ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now vaultd.service 2>/dev/null || true
  fi
  rm -f "$bin/vaultd" "$bin/vault-cli" "$bin/edgevault-sandbox" "$unitdir/vaultd.service" "$sysusers/edgevault.conf" "$tmpfiles/edgevault.conf"
  rm -rf "$doc"
  rm -f "$etc/vaultd.toml"
  rmdir "$etc" 2>/dev/null || true
  if ((purge)); then
    rm -rf "$data"
    echo "EdgeVault removed, data deleted."
  else
    echo "EdgeVault removed; the vault's data stays in $data (remove it with --uninstall --purge)."
  fi
  exit 0
fi

if [[ -z $binaries ]]; then
  scripts/install-deps
  echo "==> building release binaries (several minutes; longer on a Pi)"
  scripts/build-release >/dev/null
  binaries="$(scripts/build-release --show-bin-path)"
fi
for b in vaultd vault-cli edgevault-sandbox; do
  [[ -x "$binaries/$b" ]] || { echo "install.sh: $binaries/$b is missing" >&2; exit 1; }
done

install -d -m 0755 "$bin" "$unitdir" "$sysusers" "$tmpfiles" "$doc"
install -m 0755 "$binaries/vaultd" "$bin/vaultd"
install -m 0755 "$binaries/vault-cli" "$bin/vault-cli"
# The compute sandbox (docs/SECURITY.md, "The compute sandbox"): vaultd and vault-cli start it
# from their own directory.
install -m 0755 "$binaries/edgevault-sandbox" "$bin/edgevault-sandbox"
install -m 0644 deploy/systemd/vaultd.service "$unitdir/vaultd.service"
install -m 0644 deploy/systemd/edgevault.sysusers.conf "$sysusers/edgevault.conf"
install -m 0644 deploy/systemd/edgevault.tmpfiles.conf "$tmpfiles/edgevault.conf"
install -m 0644 README.md "$doc/README.md"
install -d -m 0755 "$etc"
if [[ -f "$etc/vaultd.toml" ]]; then
  echo "==> keeping the existing $etc/vaultd.toml"
else
  install -m 0644 deploy/vaultd.toml "$etc/vaultd.toml"
fi
# Group-writable (setgid) until the person has run `vault-cli init` as themself; systemd then
# narrows it to 0750 (StateDirectoryMode) once the files belong to edgevault.
install -d -m 2770 "$data"

if [[ -z $root ]]; then
  if command -v systemd-sysusers >/dev/null; then systemd-sysusers "$sysusers/edgevault.conf"; else
    getent group edgevault >/dev/null || groupadd --system edgevault
    getent passwd edgevault >/dev/null || useradd --system --gid edgevault --home-dir /var/lib/edgevault --shell /usr/sbin/nologin edgevault
  fi
  chown edgevault:edgevault "$data"
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    echo "==> installed; next: add yourself to the group (usermod -aG edgevault \$USER), create the vault as yourself"
    echo "    (vault-cli init --data-dir /var/lib/edgevault, see docs/RASPBERRY-PI.md), then: systemctl enable --now vaultd"
  else
    echo "==> installed (no systemd running here: start vaultd yourself)"
  fi
else
  echo "==> installed under $root"
fi
