// Package testpki makes certificates for tests of TLS on loopback: a certificate authority of the test's
// own, server certificates for 127.0.0.1 and client certificates it signs, written as PEM files in the
// test's temporary folder. Keys are ECDSA P-256, so that making them is quick.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority made for one test.
type CA struct {
	t      testing.TB
	dir    string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	Pool   *x509.CertPool // holds the CA's certificate: a client's RootCAs, a server's ClientCAs
	CAFile string         // the CA's certificate as PEM
}

// NewCA makes a CA named name, valid for an hour either side of now.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &CA{t: t, dir: t.TempDir(), cert: cert, key: key, Pool: x509.NewCertPool()}
	ca.Pool.AddCert(cert)
	ca.CAFile = filepath.Join(ca.dir, "ca.crt")
	writePEM(t, ca.CAFile, "CERTIFICATE", der)
	return ca
}

// Leaf is a certificate the CA signed, as files and as a pair for a tls.Config.
type Leaf struct {
	CertFile, KeyFile string
	Pair              tls.Certificate
}

// Server signs a server certificate for 127.0.0.1 with the given serial number, written as tls.crt and
// tls.key in dir (the CA's own folder, under names of the serial, when dir is "").
func (ca *CA) Server(serial int64, dir string) Leaf {
	return ca.issue(serial, true, dir)
}

// Client signs a client certificate with the given serial number (files as for Server).
func (ca *CA) Client(serial int64, dir string) Leaf {
	return ca.issue(serial, false, dir)
}

func (ca *CA) issue(serial int64, server bool, dir string) Leaf {
	t := ca.t
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	leaf := Leaf{CertFile: filepath.Join(dir, "tls.crt"), KeyFile: filepath.Join(dir, "tls.key")}
	if dir == "" {
		prefix := filepath.Join(ca.dir, big.NewInt(serial).String())
		leaf.CertFile, leaf.KeyFile = prefix+".crt", prefix+".key"
	}
	certPEM := writePEM(t, leaf.CertFile, "CERTIFICATE", der)
	keyPEM := writePEM(t, leaf.KeyFile, "PRIVATE KEY", keyDER)
	if leaf.Pair, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	return leaf
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func writePEM(t testing.TB, path, kind string, der []byte) []byte {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return data
}
