#!/usr/bin/env bash
# Installs what building and testing callharness needs on Debian or Ubuntu, when missing:
# libopus (with pkg-config, so the `opus` crate links it), libvpx (VP8, linked by
# `env-libvpx-sys` through pkg-config), nasm (the `openh264` crate builds OpenH264 from source
# and silently leaves out its assembly without it: 2-3x slower H.264), xmllint (the JUnit
# schema test) and tshark (the packet-capture tests read `run --pcap` output with Wireshark's
# dissectors).
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

need=()
if ! pkg-config --exists opus 2>/dev/null; then
  need+=(libopus-dev pkg-config)
fi
if ! pkg-config --exists vpx 2>/dev/null; then
  need+=(libvpx-dev pkg-config)
fi
if ! command -v nasm >/dev/null 2>&1; then
  need+=(nasm)
fi
if ! command -v xmllint >/dev/null 2>&1; then
  need+=(libxml2-utils)
fi
if ! command -v tshark >/dev/null 2>&1; then
  need+=(tshark)
fi
if ! command -v cc >/dev/null 2>&1; then
  need+=(build-essential)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "error: need root or sudo to install: ${need[*]}" >&2
  exit 1
fi
echo "installing: ${need[*]}" >&2
"${sudo[@]}" apt-get update -qq
# Through `env`, so the setting survives sudo's environment reset (tshark's package asks a
# debconf question otherwise).
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
