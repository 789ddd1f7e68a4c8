#!/usr/bin/env bash
# macOS recipe: PyInstaller .app -> smoke test -> (sign) -> .dmg -> (sign, notarise, staple).
#
# RECIPE, NOT TESTED HERE: it needs macOS (PyInstaller builds for the OS it runs on; codesign,
# hdiutil, notarytool and stapler are Apple tools) and this project's machines and CI are Linux.
# packaging/ci/github-release.yml runs it on macOS runners (one per architecture: x86_64 and
# arm64; a universal2 build would need universal2 wheels of every binary dependency).
#
#   bash packaging/macos/build-macos.sh
#
# Signing and notarisation happen when these are set (otherwise an unsigned .app/.dmg, which
# Gatekeeper blocks on other Macs unless the user right-clicks -> Open):
#   MACOS_CODESIGN_IDENTITY  "Developer ID Application: <Company> (<TEAMID>)", in the keychain
#   NOTARY_PROFILE           a profile saved by `xcrun notarytool store-credentials`, or instead
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD   (an app-specific password)
#   CTRADER_ADMIN_BUNDLE_ID  the bundle identifier (default com.example.ctrader-admin)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
venv=build/venv-package
identity=${MACOS_CODESIGN_IDENTITY:-}

# 1. A build venv with a NORMAL install (PyInstaller cannot see an editable one).
[ -x "$venv/bin/python" ] || "${PYTHON:-python3.11}" -m venv "$venv"
rm -rf build/lib build/bdist.*
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q ".[package]"

# 2. dist/ctrader-admin.app; with an identity, PyInstaller signs every binary and the bundle with
#    the hardened runtime and packaging/macos/entitlements.plist.
rm -rf dist/ctrader-admin dist/ctrader-admin.app
start=$(date +%s)
(cd build && MACOS_ENTITLEMENTS="$root/packaging/macos/entitlements.plist" \
  "$root/$venv/bin/pyinstaller" --noconfirm --clean --distpath "$root/dist" \
  --workpath "$root/build/pyinstaller" "$root/packaging/pyinstaller/ctrader-admin.spec")
echo "PyInstaller: $(($(date +%s) - start)) s"
app=dist/ctrader-admin.app
exe=$app/Contents/MacOS/ctrader-admin

# 3. Smoke test of the .app's executable.
QT_QPA_PLATFORM=offscreen "$exe" --smoke-test
version=$("$exe" --version | awk '{print $2}')
/usr/libexec/PlistBuddy -c "Print :CFBundleShortVersionString" "$app/Contents/Info.plist"

if [ -n "$identity" ]; then
  codesign --verify --deep --strict --verbose=2 "$app"
fi

# 4. The disk image: the .app and a link to /Applications (drag to install).
dmg=dist/ctrader-admin-$version-$(uname -m).dmg
staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "ctrader-admin $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
rm -rf "$staging"

# 5. Sign the .dmg, notarise it with Apple, staple the ticket, and let Gatekeeper judge it.
if [ -n "$identity" ]; then
  codesign --sign "$identity" --timestamp "$dmg"
  if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
  else
    xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
  fi
  xcrun stapler staple "$dmg"
  xcrun stapler validate "$dmg"
  spctl --assess --type open --context context:primary-signature --verbose=2 "$dmg"
fi

# 6. Install from the image as a user would, and smoke-test the installed copy.
mount=$(mktemp -d)
hdiutil attach "$dmg" -nobrowse -readonly -mountpoint "$mount" >/dev/null
target=$(mktemp -d)
cp -R "$mount/ctrader-admin.app" "$target/"
hdiutil detach "$mount" >/dev/null
QT_QPA_PLATFORM=offscreen "$target/ctrader-admin.app/Contents/MacOS/ctrader-admin" --smoke-test
rm -rf "$target"
echo "disk image: $dmg ($(du -h "$dmg" | cut -f1))"
