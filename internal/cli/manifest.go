package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"cpk/internal/manifest"
)

func newManifestCmd(g *Globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "manifest",
		Short: "Work with CloudronManifest.json files",
	}
	c.AddCommand(newManifestCheckCmd(g))
	return c
}

type manifestCheckOptions struct {
	Format   string
	Appstore bool
	Files    []string
}

func newManifestCheckCmd(g *Globals) *cobra.Command {
	var opts manifestCheckOptions
	c := &cobra.Command{
		Use:   "check [--appstore] FILE...",
		Short: "Validate manifests exactly as the official validator does, reporting every error",
		Long: `Validate CloudronManifest.json files with the verdicts of the official validator
(cloudron-manifestformat 5.27.0), but report every error, not only the first,
each with its JSON pointer, line and column. Fields of newer platforms
(persistentDirs, backupCommand, restoreCommand, packageUrl, iconUrl,
packagerName, packagerUrl) are accepted when minBoxVersion is high enough.

--appstore adds the App Store requirements (dockerImage, metadata, media
links, minBoxVersion gates). "-" reads standard input.

Exits 0 when every file is valid, 1 otherwise, 2 on a usage error.`,
		Example: `  cpk manifest check apps/grist/CloudronManifest.json
  cpk manifest check --appstore --format json apps/*/CloudronManifest.json`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat(opts.Format); err != nil {
				return err
			}
			if len(args) == 0 {
				return usageError("name at least one manifest file (or - for standard input)")
			}
			opts.Files = args
			return runManifestCheck(g.IO, opts)
		},
	}
	formatFlag(c, &opts.Format)
	c.Flags().BoolVar(&opts.Appstore, "appstore", false, "also check the App Store requirements")
	return c
}

// manifestResult is the JSON shape of one checked file.
type manifestResult struct {
	File     string           `json:"file"`
	Valid    bool             `json:"valid"`
	Errors   []manifest.Error `json:"errors"`
	Appstore *appstoreResult  `json:"appstore,omitempty"`
}

type appstoreResult struct {
	Valid  bool             `json:"valid"`
	Errors []manifest.Error `json:"errors"`
}

// maxManifestSize bounds what is read; the decoder rejects anything larger anyway.
const maxManifestSize = 64 << 20

func runManifestCheck(io_ *IO, opts manifestCheckOptions) error {
	results := make([]manifestResult, 0, len(opts.Files))
	allValid := true
	for _, file := range opts.Files {
		res := checkManifestFile(io_, file, opts.Appstore)
		allValid = allValid && res.Valid && (res.Appstore == nil || res.Appstore.Valid)
		results = append(results, res)
	}
	if opts.Format == "json" {
		if err := io_.writeJSON(results); err != nil {
			return err
		}
	} else {
		printManifestResults(io_, results)
	}
	if !allValid {
		return silentFailure
	}
	return nil
}

func checkManifestFile(io_ *IO, file string, appstore bool) manifestResult {
	res := manifestResult{File: file, Errors: []manifest.Error{}}
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(io_.In, maxManifestSize+1))
	} else {
		data, err = readLimited(file, maxManifestSize+1)
	}
	if err != nil {
		res.Errors = append(res.Errors, manifest.Error{Message: "cannot read the file: " + cleanPathErr(err)})
		if appstore {
			res.Appstore = &appstoreResult{Errors: []manifest.Error{}}
		}
		return res
	}
	rep := manifest.Check(data, manifest.Options{Appstore: appstore})
	res.Valid = rep.Valid
	res.Errors = append(res.Errors, rep.Errors...)
	if rep.Appstore != nil {
		// A manifest that is not valid cannot meet the App Store's
		// requirements, whatever those checks alone say.
		res.Appstore = &appstoreResult{Valid: rep.Appstore.Valid && rep.Valid, Errors: append([]manifest.Error{}, rep.Appstore.Errors...)}
		if !rep.Valid && rep.Appstore.Valid {
			res.Appstore.Errors = append(res.Appstore.Errors, manifest.Error{Message: "the manifest itself is not valid (see its errors)"})
		}
	}
	return res
}

func readLimited(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("is a folder, not a file (name its CloudronManifest.json)")
	}
	return io.ReadAll(io.LimitReader(f, limit))
}

func cleanPathErr(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		if os.IsNotExist(pe) {
			return "no such file"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

func printManifestResults(io *IO, results []manifestResult) {
	for _, r := range results {
		storeOK := r.Appstore == nil || r.Appstore.Valid
		if r.Valid && storeOK {
			verdict := "valid"
			if r.Appstore != nil {
				verdict = "valid, App Store requirements met"
			}
			fmt.Fprintf(io.Out, "%s: %s\n", io.paint(bold, r.File), io.paint(green, verdict))
			continue
		}
		printManifestErrors(io, r.File, "", r.Errors)
		if r.Appstore != nil {
			printManifestErrors(io, r.File, "App Store: ", r.Appstore.Errors)
		}
	}
}

func printManifestErrors(io *IO, file, prefix string, errs []manifest.Error) {
	for _, e := range errs {
		loc := file
		if e.Line > 0 {
			loc = fmt.Sprintf("%s:%d:%d", file, e.Line, e.Column)
		}
		at := ""
		if e.Pointer != "" {
			at = io.paint(dim, " (at "+e.Pointer+")")
		}
		fmt.Fprintf(io.Out, "%s: %s%s%s\n", io.paint(bold, loc), io.paint(red, prefix), e.Message, at)
	}
}
