#!/usr/bin/env bash
# Installs the real peers the tests talk to (Debian packages): dcmtk (echoscu, storescu, dcmsend,
# dcmdump, dcmcjpeg, dcmcjpls, dcmcrle, dcmconv), dicom3tools (dciodvfy), libgdcm-tools (gdcmconv for
# JPEG 2000 fixtures), redis-server (BullMQ tests), python3-hl7 (mllp_send, the HL7 v2 sender of the
# report tests), python3-onnx + numpy (the suite builds a small ONNX
# test model), orthanc (the PACS of the end-to-end test) + orthanc-dicomweb (its DICOMweb plugin, which
# the real-viewer tests point OHIF at), chromium (the headless browser those tests drive through
# playwright-core; nothing ever downloads a browser), libfaiss-dev + a C++ tool chain (the optional
# FAISS backend, built by scripts/build-faiss-node.sh, which this script then runs). Skips apt when
# everything is already there. Then fetches the built OHIF viewer (scripts/fetch-ohif.sh).
set -euo pipefail
need=()
for pair in echoscu:dcmtk dciodvfy:dicom3tools gdcmconv:libgdcm-tools redis-server:redis-server Orthanc:orthanc mllp_send:python3-hl7; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
/usr/bin/python3 -c 'import onnx, numpy' >/dev/null 2>&1 || need+=(python3-onnx python3-numpy)
[ -f /usr/include/faiss/IndexFlat.h ] || need+=(libfaiss-dev)
command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || need+=(g++ make)
if [ ${#need[@]} -eq 0 ]; then
  echo "test peers present: dcmtk, dicom3tools, libgdcm-tools, redis-server, python3-onnx, orthanc, orthanc-dicomweb, chromium, python3-hl7, libfaiss-dev"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${need[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# The FAISS backend's binding; --require: the FAISS tests must never meet a silently missing build.
bash "$(dirname "$0")/build-faiss-node.sh" --require
# The built OHIF viewer for test/viewer-*.test.ts (npm pack of @ohif/app, checked against its sha512).
bash "$(dirname "$0")/fetch-ohif.sh"
