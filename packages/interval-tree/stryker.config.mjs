import strykerConfig from '../../stryker.config.shared.mjs';

export default strykerConfig();
