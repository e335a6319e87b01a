package base

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSources(t *testing.T) {
	deb822 := `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`
	oneLine := `# comment
deb [signed-by=/usr/share/keyrings/x.gpg arch=amd64] http://ftp.example/debian bookworm main
deb http://security.example/debian-security bookworm-security main
`
	want := []sourceEntry{{"http://mirror.example/debian", false}, {"http://mirror.example/debian-security", true}}
	if got := parseSources(deb822); !reflect.DeepEqual(got, want) {
		t.Errorf("deb822: %+v", got)
	}
	want = []sourceEntry{{"http://ftp.example/debian", false}, {"http://security.example/debian-security", true}}
	if got := parseSources(oneLine); !reflect.DeepEqual(got, want) {
		t.Errorf("one-line: %+v", got)
	}
}

// writeCA writes a self-signed CA certificate as PEM.
func writeCA(t *testing.T, dir, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlanIsContentAddressed(t *testing.T) {
	dir := t.TempDir()
	ca1 := writeCA(t, dir, "corp.crt")
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	ca2 := writeCA(t, sub, "corp.pem")

	none, err := NewPlan(Options{NoHostCA: true})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := NewPlan(Options{NoHostCA: true, Mirror: "http://elsewhere/debian"})
	if none.Ref != again.Ref || !strings.HasPrefix(none.Ref, Repo+":bookworm-") || len(none.Ref) != len(Repo+":bookworm-")+12 {
		t.Errorf("the mirror is transport, not content: %s vs %s", none.Ref, again.Ref)
	}
	with, err := NewPlan(Options{CAFiles: []string{ca1, ca2}})
	if err != nil {
		t.Fatal(err)
	}
	if with.Ref == none.Ref {
		t.Error("CA certificates change the image, so its tag")
	}
	if names := []string{with.CAs[0].Name, with.CAs[1].Name}; !reflect.DeepEqual(names, []string{"corp.crt", "corp-2.crt"}) {
		t.Errorf("names in the image: %v", names)
	}
	trixie, _ := NewPlan(Options{NoHostCA: true, Suite: "trixie"})
	if trixie.Ref == none.Ref || trixie.RootfsRef == none.RootfsRef || !strings.Contains(trixie.Ref, ":trixie-") {
		t.Errorf("suite: %s %s", trixie.Ref, trixie.RootfsRef)
	}
	if with.RootfsRef != none.RootfsRef {
		t.Error("the root filesystem does not depend on CA certificates")
	}

	bad := filepath.Join(dir, "bad.crt")
	os.WriteFile(bad, []byte("not a certificate"), 0o644)
	if _, err := NewPlan(Options{CAFiles: []string{bad}}); err == nil || !strings.Contains(err.Error(), "PEM") {
		t.Errorf("a non-PEM CA file: %v", err)
	}
	if _, err := NewPlan(Options{CAFiles: []string{filepath.Join(dir, "missing.crt")}}); err == nil {
		t.Error("a missing CA file is an error")
	}
}

func TestSourcesList(t *testing.T) {
	p := &Plan{Suite: "bookworm", Mirror: "http://m/debian", SecurityMirror: "http://m/debian-security"}
	want := "deb http://m/debian bookworm main\ndeb http://m/debian bookworm-updates main\ndeb http://m/debian-security bookworm-security main\n"
	if got := p.sourcesList(); got != want {
		t.Errorf("got %q", got)
	}
}

// The embedded Dockerfile carries the conventions of platform reference §5.
func TestConventions(t *testing.T) {
	for _, want := range []string{
		"useradd --uid 1000 --gid 1000 --create-home --home-dir /home/cloudron",
		"groupadd --gid 1000 cloudron",
		"ln -s /usr/sbin/gosu /usr/local/bin/gosu",
		"mkdir -p /app/code /app/data",
		"COPY ca/ /usr/local/share/ca-certificates/cpk/",
		"update-ca-certificates",
		" supervisor ", " nginx", " ca-certificates ", " curl ", " gosu ", " python3 ", " nodejs ",
	} {
		if !strings.Contains(Conventions(), want) {
			t.Errorf("the conventions lack %q", want)
		}
	}
	if strings.Contains(Conventions(), "\nFROM") {
		t.Error("cpk writes the FROM line itself")
	}
}

func TestRecordAndLocalRef(t *testing.T) {
	dir := t.TempDir()
	if rec, err := ReadRecord(dir); rec != nil || err != nil {
		t.Errorf("no record: %v %v", rec, err)
	}
	def, err := LocalRef(dir)
	if err != nil || !strings.HasPrefix(def, Repo+":") {
		t.Fatalf("default: %q %v", def, err)
	}
	b := &Builder{}
	p := &Plan{Ref: Repo + ":bookworm-000000000000", Suite: "bookworm", Hash: "00"}
	if err := b.record(dir, p, "sha256:1"); err != nil {
		t.Fatal(err)
	}
	if got, err := LocalRef(dir); err != nil || got != p.Ref {
		t.Errorf("recorded: %q %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, RecordFile), []byte("{"), 0o644)
	if _, err := LocalRef(dir); err == nil || !strings.Contains(err.Error(), "cpk base build") {
		t.Errorf("a broken record: %v", err)
	}
}

func TestRemoveTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rootfs")
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "b", "f"), []byte("x"), 0o644)
	if err := removeTree(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("still there: %v", err)
	}
}
