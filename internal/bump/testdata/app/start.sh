#!/bin/bash
exec /app/code/server
