module github.com/kerago/kerago

go 1.26
