// render-manifests renders a kustomization (as `kubectl kustomize <dir>` does) and checks every rendered
// object against the Kubernetes API types: each one is decoded strictly into its Go type from k8s.io/api, so
// an unknown field, a duplicate field or a value of the wrong type fails. It prints the rendered objects as
// one JSON array on stdout (for test/deploy-manifests.spec.ts); on any error it prints the errors, one per
// line, on stderr and exits 1.
//
//	render-manifests <kustomization directory>
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: render-manifests <kustomization directory>")
		os.Exit(2)
	}
	objects, errs := render(os.Args[1])
	for _, err := range errs {
		fmt.Fprintln(os.Stderr, err)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	out, err := json.Marshal(objects)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

// render runs kustomize on dir and validates each object; it returns the objects as kustomize rendered them.
func render(dir string) ([]map[string]interface{}, []error) {
	kustomizer := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := kustomizer.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, []error{fmt.Errorf("kustomize: %w", err)}
	}
	// Strict: unknown and duplicate fields are errors, not silently dropped.
	decoder := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme, kjson.SerializerOptions{Strict: true})
	var objects []map[string]interface{}
	var errs []error
	for _, resource := range resources.Resources() {
		id := resource.CurId().String()
		data, err := resource.MarshalJSON()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		if err := validate(decoder, data); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		var object map[string]interface{}
		if err := json.Unmarshal(data, &object); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		objects = append(objects, object)
	}
	return objects, errs
}

// validate decodes one object into its registered Go type; a kind the scheme does not know (a CRD such as a
// ServiceMonitor) is an error too, so that a typo in apiVersion or kind cannot pass unchecked.
func validate(decoder *kjson.Serializer, data []byte) error {
	_, gvk, err := decoder.Decode(data, nil, nil)
	if err != nil {
		if runtime.IsNotRegisteredError(err) {
			return fmt.Errorf("not a Kubernetes API type known to k8s.io/api (%v)", err)
		}
		return err
	}
	if gvk == nil || gvk.Kind == "" {
		return fmt.Errorf("no kind")
	}
	return nil
}
