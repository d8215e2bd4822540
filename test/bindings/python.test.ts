import { PYTHON } from './languages';
import { describeLanguage } from './same-manifests';

// jsii's Python runtime raises RuntimeError for every error the library throws.
describeLanguage(PYTHON, {
  errorTypes: { constructor: 'RuntimeError', method: 'RuntimeError', static: 'RuntimeError', synth: 'RuntimeError' },
});
