// cosigncheck: an independent checker for cosign-format signatures, built by the signing tests from Debian's
// packaged sources of containers/image 5.23 (the library skopeo and podman use) and golang.org/x/crypto.
//
// Debian's skopeo and podman have sigstore disabled ("Debian-local change: sigstore disabled": the crypto step of
// the sigstoreSigned policy and of --sign-by-sigstore-private-key is stubbed out). Everything around that step is
// intact, so this program uses containers/image for all of it (reading the sha256-<hex>.sig attachments with
// use-sigstore-attachments, the strict simple-signing payload parser and writer, the manifest digest check, the
// repository match, writing attachments) and Go's crypto/ecdsa + golang.org/x/crypto (scrypt, NaCl secretbox) for
// the stubbed step, as sigstore's libraries do.
//
//	cosigncheck verify PUBKEY.pem docker://HOST/REPO:TAG REGISTRIES.D   -> exit 0 "accepted", exit 1 "rejected: ..."
//	cosigncheck sign ENCRYPTED.key PASSWORD-FILE docker://HOST/REPO:TAG REGISTRIES.D
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/containers/image/v5/docker/reference"
	"github.com/containers/image/v5/internal/image"
	"github.com/containers/image/v5/internal/imagedestination"
	"github.com/containers/image/v5/internal/signature"
	"github.com/containers/image/v5/manifest"
	sigint "github.com/containers/image/v5/signature/internal"
	"github.com/containers/image/v5/transports/alltransports"
	"github.com/containers/image/v5/types"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

func main() {
	var err error
	switch {
	case len(os.Args) == 5 && os.Args[1] == "verify":
		err = verify(os.Args[2], os.Args[3], os.Args[4])
		if err == nil {
			fmt.Println("accepted")
		}
	case len(os.Args) == 6 && os.Args[1] == "sign":
		err = sign(os.Args[2], os.Args[3], os.Args[4], os.Args[5])
		if err == nil {
			fmt.Println("signed")
		}
	default:
		err = errors.New("usage: cosigncheck verify PUB REF REGISTRIES.D | sign KEY PASSWORDFILE REF REGISTRIES.D")
	}
	if err != nil {
		fmt.Println("rejected: " + err.Error())
		os.Exit(1)
	}
}

func sys(registriesD string) *types.SystemContext {
	return &types.SystemContext{RegistriesDirPath: registriesD, DockerInsecureSkipTLSVerify: types.OptionalBoolTrue}
}

func verify(pubPath, ref, registriesD string) error {
	ctx := context.Background()
	pemBytes, err := os.ReadFile(pubPath)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PUBLIC KEY" {
		return errors.New("no PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return err
	}
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return errors.New("not an ECDSA key")
	}
	imgRef, err := alltransports.ParseImageName(ref)
	if err != nil {
		return err
	}
	src, err := imgRef.NewImageSource(ctx, sys(registriesD))
	if err != nil {
		return err
	}
	defer src.Close()
	unparsed := image.UnparsedInstance(src, nil)
	manifestBlob, _, err := unparsed.Manifest(ctx)
	if err != nil {
		return err
	}
	sigs, err := unparsed.UntrustedSignatures(ctx)
	if err != nil {
		return err
	}
	var reasons []string
	for _, s := range sigs {
		sg, ok := s.(signature.Sigstore)
		if !ok || sg.UntrustedMIMEType() != signature.SigstoreSignatureMIMEType {
			continue
		}
		if err := accept(ecPub, sg, manifestBlob, imgRef.DockerReference()); err != nil {
			reasons = append(reasons, err.Error())
			continue
		}
		return nil
	}
	if len(reasons) == 0 {
		return errors.New("A signature was required, but no signature exists")
	}
	return errors.New(strings.Join(reasons, "; "))
}

// accept: the signature verifies over the payload with the key, the payload parses strictly, names this manifest's
// digest and (matchRepository) this repository.
func accept(pub *ecdsa.PublicKey, sg signature.Sigstore, manifestBlob []byte, image reference.Named) error {
	b64, ok := sg.UntrustedAnnotations()["dev.cosignproject.cosign/signature"]
	if !ok {
		return errors.New("missing signature annotation")
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	hash := sha256.Sum256(sg.UntrustedPayload())
	if !ecdsa.VerifyASN1(pub, hash[:], sig) {
		return errors.New("cryptographic signature verification failed")
	}
	var payload sigint.UntrustedSigstorePayload
	if err := json.Unmarshal(sg.UntrustedPayload(), &payload); err != nil {
		return err
	}
	matches, err := manifest.MatchesDigest(manifestBlob, payload.UntrustedDockerManifestDigest)
	if err != nil || !matches {
		return fmt.Errorf("signature for another manifest digest %s", payload.UntrustedDockerManifestDigest)
	}
	signed, err := reference.ParseNormalizedNamed(payload.UntrustedDockerReference)
	if err != nil {
		return err
	}
	if signed.Name() != image.Name() {
		return fmt.Errorf("signature for repository %s does not match %s", signed.Name(), image.Name())
	}
	return nil
}

type envelope struct {
	KDF struct {
		Name      string         `json:"name"`
		RawParams map[string]int `json:"params"`
		Salt      []byte         `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

func decryptKey(keyPath, passwordPath string) (*ecdsa.PrivateKey, error) {
	raw, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, err
	}
	password, err := os.ReadFile(passwordPath)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "ENCRYPTED SIGSTORE PRIVATE KEY" {
		return nil, errors.New("not an ENCRYPTED SIGSTORE PRIVATE KEY")
	}
	var e envelope
	if err := json.Unmarshal(block.Bytes, &e); err != nil {
		return nil, err
	}
	if e.KDF.Name != "scrypt" || e.Cipher.Name != "nacl/secretbox" || len(e.Cipher.Nonce) != 24 {
		return nil, errors.New("unexpected kdf or cipher")
	}
	key, err := scrypt.Key(password, e.KDF.Salt, e.KDF.RawParams["N"], e.KDF.RawParams["r"], e.KDF.RawParams["p"], 32)
	if err != nil {
		return nil, err
	}
	var k [32]byte
	var n [24]byte
	copy(k[:], key)
	copy(n[:], e.Cipher.Nonce)
	plain, ok := secretbox.Open(nil, e.Ciphertext, &n, &k)
	if !ok {
		return nil, errors.New("decryption failed")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		return nil, err
	}
	ecKey, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an ECDSA key")
	}
	return ecKey, nil
}

func sign(keyPath, passwordPath, ref, registriesD string) error {
	ctx := context.Background()
	key, err := decryptKey(keyPath, passwordPath)
	if err != nil {
		return err
	}
	imgRef, err := alltransports.ParseImageName(ref)
	if err != nil {
		return err
	}
	src, err := imgRef.NewImageSource(ctx, sys(registriesD))
	if err != nil {
		return err
	}
	manifestBlob, _, err := src.GetManifest(ctx, nil)
	src.Close()
	if err != nil {
		return err
	}
	manifestDigest, err := manifest.Digest(manifestBlob)
	if err != nil {
		return err
	}
	// As skopeo --sign-by-sigstore-private-key: the payload names the reference as given (with its tag).
	payload, err := sigint.NewUntrustedSigstorePayload(digest.Digest(manifestDigest), imgRef.DockerReference().String()).MarshalJSON()
	if err != nil {
		return err
	}
	hash := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, key, hash[:])
	if err != nil {
		return err
	}
	sg := signature.SigstoreFromComponents(signature.SigstoreSignatureMIMEType, payload,
		map[string]string{"dev.cosignproject.cosign/signature": base64.StdEncoding.EncodeToString(sig)})
	dest, err := imgRef.NewImageDestination(ctx, sys(registriesD))
	if err != nil {
		return err
	}
	defer dest.Close()
	if err := imagedestination.FromPublic(dest).PutSignaturesWithFormat(ctx, []signature.Signature{sg}, &manifestDigest); err != nil {
		return err
	}
	return dest.Commit(ctx, nil)
}
