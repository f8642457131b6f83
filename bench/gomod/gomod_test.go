package gomod

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestRoot(t *testing.T) {
	root, err := Root(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("root %s has no go.mod: %v", root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "bench", "gomod")); err != nil {
		t.Fatalf("root %s is not this module's: %v", root, err)
	}
}
