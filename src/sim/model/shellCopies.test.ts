import { describe, expect, it } from 'vitest';
import { parseFileCopies } from './shellCopies.js';

describe('parseFileCopies', () => {
  it("finds kube-multus-cilium's cat and ignores its glob cp", () => {
    const script = 'cp /opt/cni/bin/* /host/opt/cni/bin && cat /tmp/99-flannel.conflist > /host/etc/cni/net.d/99-flannel.conflist';
    expect(parseFileCopies(['/bin/bash', '-c', script])).toEqual([{ src: '/tmp/99-flannel.conflist', dst: '/host/etc/cni/net.d/99-flannel.conflist' }]);
  });

  it("finds nothing in kube-multus-canal's jq edit (variables, pipes, command substitutions)", () => {
    const script =
      "CNI_PATH='/host/etc/cni/net.d/10-calico.conflist'; CNI_CONFIG=$(cat $CNI_PATH); if [[ ! $(echo $CNI_CONFIG  | jq '.plugins | .[] | select(.type == \"sbr\")') ]]; then echo $CNI_CONFIG | jq '.plugins += [{\"type\": \"sbr\"}]' > $CNI_PATH  ; fi && cp /opt/cni/bin/* /host/opt/cni/bin";
    expect(parseFileCopies(['/bin/bash', '-c', script])).toEqual([]);
  });

  it('reads a direct cp argv with flags, and sh -ec scripts', () => {
    expect(parseFileCopies(['cp', '-f', '/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/10-flannel.conflist'])).toEqual([{ src: '/etc/kube-flannel/cni-conf.json', dst: '/etc/cni/net.d/10-flannel.conflist' }]);
    expect(parseFileCopies(['sh', '-ec', 'set -x\nif true; then cp /a/x.conf /b/; fi'])).toEqual([{ src: '/a/x.conf', dst: '/b/' }]);
  });

  it('does not take an append or a quoted separator for a copy', () => {
    expect(parseFileCopies(['sh', '-c', 'cat /a/x >> /b/y'])).toEqual([]);
    expect(parseFileCopies(['sh', '-c', "echo 'a; cat /a/x > /b/y'"])).toEqual([]);
  });
});
