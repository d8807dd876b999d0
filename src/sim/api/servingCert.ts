import { generate } from 'selfsigned';

/** A TLS key pair for the simulated API server; the certificate is its own CA. */
export interface ServingCert {
  key: string;
  cert: string;
}

/**
 * A fresh self-signed certificate for 127.0.0.1/localhost. The simulator serves HTTPS because
 * kubectl (client-go) never sends a bearer token over plain HTTP; clients trust this certificate
 * through the kubeconfig's certificate-authority-data.
 */
export async function generateServingCert(): Promise<ServingCert> {
  const r = await generate([{ name: 'commonName', value: 'cni-migration-sim' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: r.private, cert: r.cert };
}
