import { GO } from './languages';
import { describeLanguage } from './same-manifests';

// jsii's Go runtime panics with an error value (errors.New) for every error the library throws.
describeLanguage(GO, {
  errorTypes: { constructor: '*errors.errorString', method: '*errors.errorString', static: '*errors.errorString', synth: '*errors.errorString' },
});
