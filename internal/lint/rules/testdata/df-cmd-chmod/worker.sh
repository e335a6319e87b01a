#!/bin/bash
set -eu
echo worker
