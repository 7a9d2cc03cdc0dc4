package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/muster-project/muster/client"
)

// Walk a large fleet page by page with keyset paging.
func ExampleClient_AllAgents() {
	c, err := client.New("https://wazuh.example:55000",
		client.WithCredentials("wazuh-wui", "secret"),
		client.WithCAFile("/etc/muster/wazuh-ca.pem"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	q := client.AgentQuery{Status: []string{client.StatusDisconnected}, Select: []string{"name", "lastKeepAlive"}}
	for a, err := range c.AllAgents(ctx, q, 1000, client.PageProgress(func(done, total int) {
		log.Printf("%d/%d agents", done, total)
	})) {
		if client.IsBlocked(err) || client.IsUnauthorized(err) {
			log.Fatal(err) // the error's remediation says what to fix
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.ID, a.Name, a.LastKeepAlive.Time)
	}
}
