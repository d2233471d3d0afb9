package vecarith

//go:generate go run ./asm/gen.go
