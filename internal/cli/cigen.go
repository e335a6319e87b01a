package cli

import "github.com/spf13/cobra"

func newCIGenerateCmd(g *Globals) *cobra.Command { return &cobra.Command{Use: "generate", Hidden: true} }
