module cpk

go 1.26.8
