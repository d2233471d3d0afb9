package serve

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Model names and files stay inside the model folder: a name from a request is a plain file name
// (checkRepositoryName), a file the folder holds may be a symlink only to somewhere inside the folder
// (confineSource), and messages that go to clients name files relative to the folder (hidePaths).

// confineSource checks that src's files, its model file and its settings file if it has one, lie inside
// the model folder dir once every symlink is resolved (dir's own included), so that a link such as
// NAME.onnx -> /etc/shadow, a folder NAME/ -> /home or NAME.json -> ../secret is refused by name. Links
// inside the folder are fine: Kubernetes' ConfigMap and Secret volumes are made of them. The model file's
// external data is confined to its own folder by the decoder (onnx/external.go).
//
// The check names the problem for the operator; what keeps the read inside the folder is openConfined,
// which opens the files through an os.Root on the folder right after, so that a link swapped in between
// the check and the read is refused at open. (External data is opened the same way, through an os.Root on
// the model file's folder, by the decoder.)
func confineSource(dir string, src ModelSource) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("model %q: resolving the model folder: %w", src.Name, pathFreeError(err))
	}
	for _, path := range []string{src.Path, src.SettingsFile()} {
		if path != src.Path {
			if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
				continue // no settings file
			}
		}
		name := path
		if rel, err := filepath.Rel(dir, path); err == nil {
			name = rel
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return fmt.Errorf("model %q: %s cannot be resolved (a symlink to nothing?): %w", src.Name, name, pathFreeError(err))
		}
		if !inside(root, real) {
			return fmt.Errorf("model %q: %s is a symlink leading outside the model folder; only links inside it are followed", src.Name, name)
		}
	}
	return nil
}

// inside reports whether path lies in the folder root (both absolute, symlinks resolved).
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// pathFreeError is err without the path an *fs.PathError carries, which may be where a symlink leads.
func pathFreeError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// modelDirForms are the absolute spellings of the model folder (as given, and with symlinks resolved),
// longest first, that hidePaths removes from messages.
func modelDirForms(dir string) []string {
	if dir == "" {
		return nil
	}
	var forms []string
	if abs, err := filepath.Abs(dir); err == nil {
		forms = append(forms, abs)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		if abs, err := filepath.Abs(real); err == nil && (len(forms) == 0 || abs != forms[0]) {
			forms = append(forms, abs)
		}
	}
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	return forms
}

// hidePaths rewrites a message that goes to a client (a load error, an index reason) so that it names files
// relative to the model folder and the folder itself as "the model folder": where the server keeps its
// models is no business of a client's. The log keeps the full paths, for the operator.
func (s *Server) hidePaths(msg string) string {
	for _, form := range s.dirForms {
		msg = strings.ReplaceAll(msg, form+string(filepath.Separator), "")
		msg = strings.ReplaceAll(msg, form, "the model folder")
	}
	return msg
}

// confinedFiles are a model's files opened through an os.Root on the model folder: the model file, and
// its settings file's bytes (nil when it has none).
type confinedFiles struct {
	model    *os.File
	settings []byte
}

// openConfined opens src's model file and reads its settings file through an os.Root on the model folder
// dir, which refuses, at open, any path or symlink leading outside the folder: what confineSource checked
// by path is then what is read, even if a link is swapped in between. The caller closes files.model.
func openConfined(dir string, src ModelSource) (confinedFiles, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return confinedFiles{}, fmt.Errorf("model %q: opening the model folder: %w", src.Name, pathFreeError(err))
	}
	defer root.Close() // files opened through it stay open
	rel := func(path string) (string, error) {
		r, err := filepath.Rel(dir, path)
		if err != nil || !filepath.IsLocal(r) {
			return "", fmt.Errorf("model %q: %s is not in the model folder", src.Name, filepath.Base(path))
		}
		return r, nil
	}
	modelRel, err := rel(src.Path)
	if err != nil {
		return confinedFiles{}, err
	}
	settingsRel, err := rel(src.SettingsFile())
	if err != nil {
		return confinedFiles{}, err
	}
	var files confinedFiles
	if sf, err := root.Open(settingsRel); err == nil {
		files.settings, err = io.ReadAll(sf)
		sf.Close()
		if err != nil {
			return confinedFiles{}, fmt.Errorf("model %q: reading %s: %w", src.Name, settingsRel, pathFreeError(err))
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return confinedFiles{}, fmt.Errorf("model %q: opening %s inside the model folder: %w", src.Name, settingsRel, pathFreeError(err))
	}
	if files.model, err = root.Open(modelRel); err != nil {
		return confinedFiles{}, fmt.Errorf("model %q: opening %s inside the model folder: %w", src.Name, modelRel, pathFreeError(err))
	}
	return files, nil
}
